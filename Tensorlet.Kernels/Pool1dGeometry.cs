namespace Tensorlet.Kernels;

/// <summary>
/// The windows of a 1-d pooling, shared by the CPU, ILGPU and reference kernels: x is [Rows, Length] (a pooling's
/// [N, C, L] read as N·C rows) and y is [Rows, OutputLength], y[r, t] pooled over the window of output t in row r.
/// A sliding window (nn.MaxPool1d, nn.AvgPool1d; <see cref="Sliding"/>) has KernelSize taps at First(t) = t·Stride −
/// Padding, First(t) + Dilation, ...; the taps outside [0, Length) are padding, which no pooling reads. With CeilMode
/// the last window may also run past the padding on the right, over taps at or past Length + Padding. An adaptive
/// window (nn.AdaptiveMaxPool1d, nn.AdaptiveAvgPool1d; <see cref="Adaptive"/>, Adaptive = 1) is the positions
/// [⌊t·L/L_out⌋, ⌈(t + 1)·L/L_out⌉), all inside x. An average divides by its taps before Length + Padding (KernelSize
/// but in a last window past the padding) when CountIncludePad is 1, else by the taps inside x (an adaptive window's
/// size).
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
/// <param name="CeilMode">1 when a sliding window's L_out is rounded up (nn.MaxPool1d's and nn.AvgPool1d's ceil_mode), else 0.</param>
internal readonly record struct Pool1dGeometry(int Rows, int Length, int OutputLength, int KernelSize, int Stride, int Padding, int Dilation, int CountIncludePad, int Adaptive, int CeilMode)
{
    /// <summary>The windows of nn.MaxPool1d or nn.AvgPool1d over x [rows, length]; OutputLength as <see cref="OutputLengthOf"/> gives it.</summary>
    public static Pool1dGeometry Sliding(int rows, int length, int kernelSize, int stride, int padding, int dilation, bool countIncludePad, bool ceilMode = false)
        => new(rows, length, (int)OutputLengthOf(length, kernelSize, stride, padding, dilation, ceilMode), kernelSize, stride, padding, dilation, countIncludePad ? 1 : 0, 0, ceilMode ? 1 : 0);

    /// <summary>The windows of nn.AdaptiveMaxPool1d or nn.AdaptiveAvgPool1d with output size <paramref name="outputLength"/> over x [rows, length].</summary>
    public static Pool1dGeometry AdaptiveWindows(int rows, int length, int outputLength) => new(rows, length, outputLength, 0, 0, 0, 1, 1, 1, 0);

    /// <summary>
    /// A sliding window's L_out over <paramref name="length"/> positions, as PyTorch 1.13 computes it, 0 when no window
    /// fits: ⌊s/stride⌋ + 1 for s = L + 2·padding − dilation·(k − 1) − 1 (<see cref="Conv1dGeometry.OutputLengthOf(int, int, int, int, int)"/>),
    /// or with <paramref name="ceilMode"/> ⌈s/stride⌉ + 1, less one where the last window would start in the right
    /// padding ((L_out − 1)·stride ≥ L + padding), so that every window starts inside x or the left padding.
    /// </summary>
    public static long OutputLengthOf(int length, int kernelSize, int stride, int padding, int dilation, bool ceilMode)
    {
        if (!ceilMode)
        {
            return Conv1dGeometry.OutputLengthOf(length, kernelSize, stride, padding, dilation);
        }

        long span = (long)length + (2L * padding) - ((long)dilation * (kernelSize - 1)) - 1;
        if (span + stride - 1 < 0)
        {
            return 0;
        }

        long outLength = ((span + stride - 1) / stride) + 1;
        return (outLength - 1) * stride >= (long)length + padding ? outLength - 1 : outLength;
    }

    /// <summary>
    /// Whether these are the windows of a pooling as PyTorch takes them: sizes in range (an adaptive output of at least 1;
    /// a kernel, stride and dilation of at least 1, a padding in [0, k/2]), L and L_out at least 1, and L_out as
    /// <see cref="OutputLengthOf"/> gives it.
    /// </summary>
    public bool IsPooling
        => Length >= 1 && OutputLength >= 1 && (Adaptive != 0
            || (KernelSize >= 1 && Stride >= 1 && Dilation >= 1 && Padding >= 0 && Padding <= KernelSize / 2
                && OutputLength == OutputLengthOf(Length, KernelSize, Stride, Padding, Dilation, CeilMode != 0)));

    /// <summary>The position of output <paramref name="t"/>'s first tap (negative in the padding).</summary>
    public int First(int t) => Adaptive != 0 ? (int)((long)t * Length / OutputLength) : (t * Stride) - Padding;

    /// <summary>The taps of output <paramref name="t"/>'s window, those in the padding included.</summary>
    public int Taps(int t) => Adaptive != 0 ? (int)(((((long)t + 1) * Length) + OutputLength - 1) / OutputLength) - First(t) : KernelSize;

    /// <summary>
    /// What an average of output <paramref name="t"/>'s window divides by: with CountIncludePad its taps before
    /// Length + Padding (an adaptive window's size; KernelSize but where a ceil-mode window runs past the padding, as
    /// PyTorch counts it), else the taps inside x.
    /// </summary>
    public int Divisor(int t)
    {
        // The taps j in [0, k) with bound ≤ First(t) + j·Dilation < end, [bound, end) being [−Padding, Length + Padding)
        // with CountIncludePad and [0, Length) without, counted in closed form (a backward asks once per position and
        // window): j from ⌈(bound − First)/Dilation⌉ (0 when First ≥ bound) to ⌊(end − 1 − First)/Dilation⌋, at most k − 1.
        if (Adaptive != 0)
        {
            return Taps(t);
        }

        long first = First(t);
        long bound = CountIncludePad != 0 ? -Padding : 0;
        long end = CountIncludePad != 0 ? (long)Length + Padding : Length;
        long low = first >= bound ? 0 : (bound - first + Dilation - 1) / Dilation;
        long high = first >= end ? -1 : (end - 1 - first) / Dilation;
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
