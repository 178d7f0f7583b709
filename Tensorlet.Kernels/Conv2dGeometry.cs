namespace Tensorlet.Kernels;

/// <summary>
/// The sizes of a 2-d convolution's unfold (im2col) and fold (col2im), shared by the CPU, ILGPU and reference kernels:
/// x is [Batch, Channels, Height, Width]; its unfolded matrix has <see cref="Rows"/> = Batch·H_out·W_out rows of
/// <see cref="RowLength"/> = Channels·kH·kW, row (n·H_out + s)·W_out + t, column (c·kH + i)·kW + j holding
/// x[n, c, s·strideH − top + i·dilationH, t·strideW − left + j·dilationW], or 0 where that position is outside x (zero
/// padding). Each row is read as nn.Conv2d's weight [C_out, C, kH, kW] reads one output position's inputs.
/// </summary>
/// <param name="Batch">N.</param>
/// <param name="Channels">C.</param>
/// <param name="Height">H.</param>
/// <param name="Width">W.</param>
/// <param name="Window">The kernel, stride, padding and dilation on each axis.</param>
internal readonly record struct Conv2dGeometry(int Batch, int Channels, int Height, int Width, Conv2dWindow Window)
{
    /// <summary>
    /// H_out = ⌊(H + top + bottom − dilationH·(kH − 1) − 1)/strideH⌋ + 1, as torch.nn.Conv2d. A geometry is made only for
    /// sizes whose <see cref="Rows"/> fits in an int (Ops checks them), so neither this nor <see cref="OutputWidth"/> overflows.
    /// </summary>
    public int OutputHeight => (int)Window.OutputHeightOf(Height);

    /// <summary>W_out = ⌊(W + left + right − dilationW·(kW − 1) − 1)/strideW⌋ + 1.</summary>
    public int OutputWidth => (int)Window.OutputWidthOf(Width);

    /// <summary>The columns of the unfolded matrix, Channels·kH·kW.</summary>
    public int RowLength => Channels * Window.Taps;

    /// <summary>The rows of the unfolded matrix, Batch·H_out·W_out.</summary>
    public int Rows => Batch * OutputHeight * OutputWidth;

    /// <summary>The elements of x, Batch·Channels·Height·Width.</summary>
    public long InputLength => (long)Batch * Channels * Height * Width;
}
