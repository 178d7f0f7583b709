namespace Tensorlet.Kernels;

/// <summary>
/// The windows of a 1-d pooling, shared by the CPU, ILGPU and reference kernels: x is [Rows, Length] (a pooling's
/// [N, C, L] read as N·C rows) and y is [Rows, OutputLength], y[r, t] pooled over the window of output t in row r.
/// A sliding window (nn.MaxPool1d, nn.AvgPool1d; <see cref="Sliding"/>) has KernelSize taps at First(t) = t·Stride −
/// Padding, First(t) + Dilation, ...; the taps outside [0, Length) are padding, which no pooling reads. An adaptive
/// window (nn.AdaptiveMaxPool1d, nn.AdaptiveAvgPool1d; <see cref="Adaptive"/>, Adaptive = 1) is the positions
/// [⌊t·L/L_out⌋, ⌈(t + 1)·L/L_out⌉), all inside x. An average divides by KernelSize when CountIncludePad is 1, else by
/// the taps inside x (an adaptive window's size).
/// </summary>
/// <param name="Rows">N·C.</param>
/// <param name="Length">L, at least 1.</param>
/// <param name="OutputLength">L_out, at least 1.</param>
/// <param name="KernelSize">k, at least 1 (0 for an adaptive window).</param>
/// <param name="Stride">The step between windows, at least 1 (0 for an adaptive window).</param>
/// <param name="Padding">The padding on each side, at least 0 and at most k/2.</param>
/// <param name="Dilation">The step between taps, at least 1.</param>
/// <param name="CountIncludePad">1 when an average counts the padded taps (nn.AvgPool1d's count_include_pad), else 0.</param>
/// <param name="Adaptive">1 for an adaptive window, else 0.</param>
internal readonly record struct Pool1dGeometry(int Rows, int Length, int OutputLength, int KernelSize, int Stride, int Padding, int Dilation, int CountIncludePad, int Adaptive)
{
    /// <summary>The windows of nn.MaxPool1d or nn.AvgPool1d (ceil_mode false) over x [rows, length]; OutputLength as <see cref="Conv1dGeometry.OutputLengthOf"/> gives it.</summary>
    public static Pool1dGeometry Sliding(int rows, int length, int kernelSize, int stride, int padding, int dilation, bool countIncludePad)
        => new(rows, length, (int)Conv1dGeometry.OutputLengthOf(length, kernelSize, stride, padding, dilation), kernelSize, stride, padding, dilation, countIncludePad ? 1 : 0, 0);

    /// <summary>The windows of nn.AdaptiveMaxPool1d or nn.AdaptiveAvgPool1d with output size <paramref name="outputLength"/> over x [rows, length].</summary>
    public static Pool1dGeometry AdaptiveWindows(int rows, int length, int outputLength) => new(rows, length, outputLength, 0, 0, 0, 1, 1, 1);

    /// <summary>The position of output <paramref name="t"/>'s first tap (negative in the padding).</summary>
    public int First(int t) => Adaptive != 0 ? (int)((long)t * Length / OutputLength) : (t * Stride) - Padding;

    /// <summary>The taps of output <paramref name="t"/>'s window, those in the padding included.</summary>
    public int Taps(int t) => Adaptive != 0 ? (int)(((((long)t + 1) * Length) + OutputLength - 1) / OutputLength) - First(t) : KernelSize;

    /// <summary>What an average of output <paramref name="t"/>'s window divides by: every tap with CountIncludePad, else the taps inside x.</summary>
    public int Divisor(int t)
    {
        if (CountIncludePad != 0)
        {
            return Taps(t);
        }

        // The taps j in [0, k) with 0 ≤ First(t) + j·Dilation < Length, counted in closed form (a backward asks once per
        // position and window): j from ⌈−First/Dilation⌉ (0 when First ≥ 0) to ⌊(Length − 1 − First)/Dilation⌋, at most k − 1.
        long first = First(t);
        long low = first >= 0 ? 0 : (-first + Dilation - 1) / Dilation;
        long high = first >= Length ? -1 : (Length - 1 - first) / Dilation;
        high = high < KernelSize - 1 ? high : KernelSize - 1;
        return high >= low ? (int)(high - low + 1) : 0;
    }

    /// <summary>The first output whose window may hold position <paramref name="l"/> of x.</summary>
    public int FirstOutputAt(int l)
    {
        if (Adaptive != 0)
        {
            return (int)((long)l * OutputLength / Length);
        }

        // t·Stride − Padding + (k − 1)·Dilation ≥ l, rounded up; at least 0.
        long reach = (long)l + Padding - ((long)(KernelSize - 1) * Dilation);
        return reach <= 0 ? 0 : (int)((reach + Stride - 1) / Stride);
    }

    /// <summary>The last output whose window may hold position <paramref name="l"/> of x; below <see cref="FirstOutputAt"/> when none does.</summary>
    public int LastOutputAt(int l)
    {
        long last = Adaptive != 0
            ? (((((long)l + 1) * OutputLength) + Length - 1) / Length) - 1
            : ((long)l + Padding) / Stride;
        return last < OutputLength ? (int)last : OutputLength - 1;
    }

    /// <summary>Whether position <paramref name="l"/> of x is a tap of output <paramref name="t"/>'s window.</summary>
    public bool Holds(int t, int l)
    {
        int offset = l - First(t);
        return offset >= 0 && offset < ((Taps(t) - 1) * Dilation) + 1 && offset % Dilation == 0;
    }
}
