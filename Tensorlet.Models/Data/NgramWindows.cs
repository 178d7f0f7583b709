using Tensorlet.Kernels;

namespace Tensorlet.Models.Data;

/// <summary>
/// The n-gram windows of a sequence, the one windowing that both the notebook's training set and the app's
/// <c>--ngram-windows all</c> use. Window i reads <c>s[i:i+n]</c> and predicts <c>s[i+n]</c>, for i from 0 while a
/// target exists (i ≤ len − n − 1), taken in order and cut after a limit:
/// <list type="bullet">
/// <item>the notebook's first 10 (<see cref="NotebookWindowsPerSequence"/>): i = 0..9, targets at positions n..n+9;</item>
/// <item>all (no limit): i = 0..len − n − 1, len − n windows, targets at positions n..len − 1 (n..99 for the corpus's
/// 100-character sequences), the positions the LSTM is scored on from n onwards.</item>
/// </list>
/// The notebook writes its loop as <c>range(0, len - n - 1)</c> with a counter that stops after 10, so it never reaches
/// the range's end: for any sequence longer than n + 10 (all of the corpus's) its windows are exactly the first 10 here.
/// Taking all windows goes one further than that range, to the window whose target is the last character, so that
/// n-gram and LSTM validation losses cover the same positions.
/// Positions and lengths count characters, Unicode scalar values (<see cref="System.Text.Rune"/>), as
/// <see cref="CharVocabulary"/> does: an n-gram is n of them, n to 2n UTF-16 code units.
/// </summary>
public static class NgramWindows
{
    /// <summary>The notebook's windows per sequence.</summary>
    public const int NotebookWindowsPerSequence = 10;

    /// <summary>
    /// The windows one sequence of <paramref name="sequenceLength"/> gives for n-grams of <paramref name="ngramOrder"/>
    /// characters: <c>min(limit, len − n)</c>, where a null <paramref name="windowsPerSequence"/> means no limit.
    /// </summary>
    public static int PerSequence(int sequenceLength, int ngramOrder, int? windowsPerSequence = NotebookWindowsPerSequence)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(ngramOrder);
        if (windowsPerSequence is { } limit)
        {
            ArgumentChecks.ThrowIfNegative(limit, nameof(windowsPerSequence));
        }

        return Math.Min(windowsPerSequence ?? int.MaxValue, Math.Max(0, sequenceLength - ngramOrder));
    }

    /// <summary>
    /// The UTF-16 offset at which each character (Unicode scalar value) of <paramref name="text"/> starts, then the text's
    /// length: one entry more than the text has characters, so character i spans <c>[starts[i], starts[i + 1])</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The text holds an unpaired surrogate.</exception>
    internal static int[] CharacterStarts(ReadOnlySpan<char> text)
    {
        var starts = new int[CharVocabulary.CountCharacters(text) + 1];
        int at = 0;
        for (int i = 0; i < starts.Length - 1; i++)
        {
            starts[i] = at;
            at += char.IsHighSurrogate(text[at]) ? 2 : 1;
        }

        starts[^1] = at;
        return starts;
    }

    /// <summary>The n characters of window <paramref name="window"/>: <c>text[starts[i]..starts[i + n]]</c>.</summary>
    internal static ReadOnlySpan<char> Ngram(string text, int[] starts, int window, int ngramOrder)
        => text.AsSpan(starts[window], starts[window + ngramOrder] - starts[window]);
}
