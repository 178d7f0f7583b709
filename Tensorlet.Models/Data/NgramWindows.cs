namespace Tensorlet.Models.Data;

/// <summary>
/// The notebook's n-gram windows over a sequence: for <c>i in range(0, len - n - 1)</c>, input <c>s[i:i+n]</c>
/// and target <c>s[i+n]</c>, with a counter that stops after the first 10. So a 100-character sequence gives
/// windows i = 0..9 by default, or 99 − n windows when all are taken (the notebook's range leaves out the
/// last one, whose target would be s[99]).
/// </summary>
public static class NgramWindows
{
    /// <summary>The notebook's windows per sequence.</summary>
    public const int NotebookWindowsPerSequence = 10;

    /// <summary>
    /// The windows one sequence of <paramref name="sequenceLength"/> gives for n-grams of <paramref name="ngramOrder"/>
    /// characters: <c>min(limit, len − n − 1)</c>, where a null <paramref name="windowsPerSequence"/> means no limit.
    /// </summary>
    public static int PerSequence(int sequenceLength, int ngramOrder, int? windowsPerSequence = NotebookWindowsPerSequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ngramOrder);
        if (windowsPerSequence is { } limit)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(limit, nameof(windowsPerSequence));
        }

        return Math.Min(windowsPerSequence ?? int.MaxValue, Math.Max(0, sequenceLength - ngramOrder - 1));
    }
}
