namespace Tensorlet.Kernels;

/// <summary>
/// The sliding window of a 2-d convolution, per axis as <see cref="Conv1dGeometry"/> has it for one: the kernel's
/// KernelHeight × KernelWidth taps, DilationHeight and DilationWidth apart, moved StrideHeight and StrideWidth positions
/// at a time over x zero-padded with PaddingTop rows above it, PaddingBottom below, PaddingLeft columns before it and
/// PaddingRight after it. The bottom and right padding only add output positions.
/// </summary>
/// <param name="KernelHeight">kH, at least 1.</param>
/// <param name="KernelWidth">kW, at least 1.</param>
/// <param name="StrideHeight">The step between output rows, at least 1.</param>
/// <param name="StrideWidth">The step between output columns, at least 1.</param>
/// <param name="PaddingTop">The zero rows above x, at least 0.</param>
/// <param name="PaddingBottom">The zero rows below x, at least 0.</param>
/// <param name="PaddingLeft">The zero columns before x, at least 0.</param>
/// <param name="PaddingRight">The zero columns after x, at least 0.</param>
/// <param name="DilationHeight">The step between the kernel's rows of taps, at least 1.</param>
/// <param name="DilationWidth">The step between the kernel's columns of taps, at least 1.</param>
internal readonly record struct Conv2dWindow(
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PaddingTop, int PaddingBottom, int PaddingLeft, int PaddingRight, int DilationHeight, int DilationWidth)
{
    /// <summary>The taps of the kernel, kH·kW.</summary>
    public int Taps => KernelHeight * KernelWidth;

    /// <summary>Throws, in one line naming the value, unless each axis's kernel size, stride and dilation are at least 1 and its padding at least 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">One of them is out of range.</exception>
    public void CheckSizes()
    {
        Conv1dGeometry.CheckSizes(KernelHeight, StrideHeight, Math.Min(PaddingTop, PaddingBottom), DilationHeight);
        Conv1dGeometry.CheckSizes(KernelWidth, StrideWidth, Math.Min(PaddingLeft, PaddingRight), DilationWidth);
    }

    /// <summary>H_out for an input of <paramref name="height"/> rows, as <see cref="Conv1dGeometry.OutputLengthOf(int, int, int, int, int, int)"/>; 0 when the kernel does not fit.</summary>
    public long OutputHeightOf(int height) => Conv1dGeometry.OutputLengthOf(height, KernelHeight, StrideHeight, PaddingTop, PaddingBottom, DilationHeight);

    /// <summary>W_out for an input of <paramref name="width"/> columns; 0 when the kernel does not fit.</summary>
    public long OutputWidthOf(int width) => Conv1dGeometry.OutputLengthOf(width, KernelWidth, StrideWidth, PaddingLeft, PaddingRight, DilationWidth);
}
