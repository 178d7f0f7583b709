using Tensorlet.Models.Data;

namespace Tensorlet.Models.Training;

/// <summary>
/// One example of a text batch source: the <c>window.Length</c> characters of a text from a start offset, as inputs
/// window[0..L) and targets window[1..L] (positions 1..L) in column b of time-major rows (row t·B + b).
/// </summary>
internal static class TimeMajorWindow
{
    /// <param name="text">The text.</param>
    /// <param name="start">The offset of the window's first character.</param>
    /// <param name="window">Scratch of L + 1 characters.</param>
    /// <param name="b">The example's column in the batch.</param>
    /// <param name="batch">B.</param>
    /// <param name="inputs">[L·B] inputs.</param>
    /// <param name="targets">[L·B] targets.</param>
    /// <param name="positions">[L·B] positions.</param>
    public static void Fill(CharIds text, int start, int[] window, int b, int batch, Span<int> inputs, Span<int> targets, Span<int> positions)
    {
        text.CopyTo(start, window);
        for (int t = 0; t < window.Length - 1; t++)
        {
            int row = (t * batch) + b;
            inputs[row] = window[t];
            targets[row] = window[t + 1];
            positions[row] = t + 1;
        }
    }
}
