namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The sizes a batch norm kernel works over: x is [Rows, Channels, Inner] (Inner = 1 for [N, C]), read as Rows rows of
/// <see cref="Width"/> = Channels·Inner; the per-channel sums go through double partials over blocks of
/// <see cref="BiasKernels.RowsPerBlock"/> rows, <see cref="Blocks"/> of them.
/// </summary>
internal readonly record struct BatchNormLayout(int Rows, int Channels, int Inner, int Blocks)
{
    /// <summary>The elements of one row, Channels·Inner.</summary>
    public int Width => Channels * Inner;

    /// <summary>The elements of one partial stage, Blocks·Width: the second stage's partials start there.</summary>
    public int PartialLength => Blocks * Width;

    /// <summary>M, the values of one channel, Rows·Inner.</summary>
    public double Count => (double)Rows * Inner;

    /// <summary>The layout of x [rows, channels, inner], with the blocks its rows need.</summary>
    public static BatchNormLayout For(int rows, int channels, int inner)
        => new(rows, channels, inner, Math.Max(1, (rows + BiasKernels.RowsPerBlock - 1) / BiasKernels.RowsPerBlock));
}
