namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The unfold (im2col) and fold (col2im) of a 2-d convolution in plain C# (<see cref="Conv2dGeometry"/> has the
/// layout), as <see cref="CpuUnfold"/> is for one axis. The unfold runs over blocks of rows of the unfolded matrix, each
/// row written once and in order; the fold runs over images (or blocks of an image's channels), each reading its rows of
/// the unfolded matrix once and in order, each element the sum of its taps from last to first, so no two threads write
/// the same element and the floats are those the ILGPU fold gives.
/// Both are memory-bound copies (the fold adds at most kH·kW values per element) over runs of kW taps, so the loops are
/// left to the JIT rather than written for a <see cref="CpuVectorWidth"/>.
/// </summary>
internal static unsafe class CpuUnfold2d
{
    /// <summary>columns [N·H_out·W_out, C·kH·kW] = unfold(x [N, C, H, W]), 0 at padded positions.</summary>
    public static void Unfold(ReadOnlySpan<float> x, Span<float> columns, Conv2dGeometry geometry, int threads)
    {
        CheckLengths(x.Length, columns.Length, geometry);
        if (columns.IsEmpty)
        {
            return;
        }

        fixed (float* xp = x, cp = columns)
        {
            CpuParallel.For(geometry.Rows, Math.Max(1, CpuParallel.MinElementsPerChunk / geometry.RowLength), threads, new UnfoldRows(xp, cp, geometry));
        }
    }

    /// <summary>x [N, C, H, W] = fold(columns [N·H_out·W_out, C·kH·kW]): each element of x is the sum of the columns' elements the unfold read from it (0 for none).</summary>
    public static void Fold(ReadOnlySpan<float> columns, Span<float> x, Conv2dGeometry geometry, int threads)
    {
        CheckLengths(x.Length, columns.Length, geometry);
        if (x.IsEmpty)
        {
            return;
        }

        fixed (float* xp = x, cp = columns)
        {
            // Items are (image, block of channels): whole images when there are images enough for the threads, the
            // channels cut into blocks otherwise, so a batch of one still uses every thread.
            int blocks = Math.Min(geometry.Channels, Math.Max(1, ((2 * threads) + geometry.Batch - 1) / geometry.Batch));
            long perItem = Math.Max(1, (long)geometry.OutputHeight * geometry.OutputWidth * geometry.RowLength / blocks);
            CpuParallel.For((long)geometry.Batch * blocks, Math.Max(1, CpuParallel.MinElementsPerChunk / perItem), threads, new FoldImages(cp, xp, geometry, blocks));
        }
    }

    private static void CheckLengths(int xLength, int columnsLength, Conv2dGeometry g)
    {
        if (xLength != g.InputLength || columnsLength != (long)g.Rows * g.RowLength)
        {
            throw new ArgumentException($"Unfold2d: x has {xLength} elements and columns {columnsLength}; {g} needs {g.InputLength} and {(long)g.Rows * g.RowLength}.");
        }
    }

    /// <summary>Rows [start, start + count) of the unfolded matrix.</summary>
    private readonly struct UnfoldRows(float* x, float* columns, Conv2dGeometry g) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var w = g.Window;
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth, height = g.Height, width = g.Width, kw = w.KernelWidth;
            long plane = (long)height * width;
            for (long row = start; row < start + count; row++)
            {
                long position = row / outWidth;
                int t = (int)(row - (position * outWidth));
                long n = position / outHeight;
                int s = (int)(position - (n * outHeight));
                int top = (s * w.StrideHeight) - w.PaddingTop, left = (t * w.StrideWidth) - w.PaddingLeft;
                float* target = columns + (row * g.RowLength);
                for (int c = 0; c < g.Channels; c++)
                {
                    float* channel = x + (((n * g.Channels) + c) * plane);
                    for (int i = 0; i < w.KernelHeight; i++)
                    {
                        int h = top + (i * w.DilationHeight);
                        if ((uint)h >= (uint)height)
                        {
                            new Span<float>(target, kw).Clear();
                        }
                        else
                        {
                            float* line = channel + ((long)h * width);
                            for (int j = 0; j < kw; j++)
                            {
                                int v = left + (j * w.DilationWidth);
                                target[j] = (uint)v < (uint)width ? line[v] : 0f;
                            }
                        }

                        target += kw;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Items [start, start + count), item = image·blocks + block: the planes of x of that image's block of channels are
    /// cleared, then the image's rows of the unfolded matrix are read in order, once, each row's taps added to the
    /// elements they were read from. So the columns stream from memory while the image's planes stay in cache, and each
    /// element sums its terms in the order of the rows, which is the taps (i, j) from last to first.
    /// </summary>
    private readonly struct FoldImages(float* columns, float* x, Conv2dGeometry g, int blocks) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var w = g.Window;
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth, rowLength = g.RowLength, height = g.Height, width = g.Width;
            int kh = w.KernelHeight, kw = w.KernelWidth, taps = w.Taps;
            long plane = (long)height * width;
            for (long item = start; item < start + count; item++)
            {
                long n = item / blocks;
                int block = (int)(item - (n * blocks));
                int c0 = (int)((long)g.Channels * block / blocks), c1 = (int)((long)g.Channels * (block + 1) / blocks);
                float* image = x + (((n * g.Channels) + c0) * plane);
                new Span<float>(image, (int)((c1 - c0) * plane)).Clear();
                float* row = columns + (n * outHeight * outWidth * rowLength);
                for (int s = 0; s < outHeight; s++)
                {
                    // The taps inside x: i in [i0, i1) for this s, j in [j0, j1) for each t (in long: s·stride and
                    // i·dilation each may pass int.MaxValue).
                    long top = ((long)s * w.StrideHeight) - w.PaddingTop;
                    var (i0, i1) = Inside(top, w.DilationHeight, kh, height);
                    for (int t = 0; t < outWidth; t++, row += rowLength)
                    {
                        long left = ((long)t * w.StrideWidth) - w.PaddingLeft;
                        var (j0, j1) = Inside(left, w.DilationWidth, kw, width);
                        for (int c = c0; c < c1; c++)
                        {
                            float* channel = image + ((c - c0) * plane);
                            float* terms = row + (c * taps);
                            for (int i = i0; i < i1; i++)
                            {
                                float* line = channel + ((top + ((long)i * w.DilationHeight)) * width) + left;
                                float* tapRow = terms + (i * kw);
                                for (int j = j0; j < j1; j++)
                                {
                                    line[(long)j * w.DilationWidth] += tapRow[j];
                                }
                            }
                        }
                    }
                }
            }
        }

        // The taps k in [0, kernel) with first + k·dilation in [0, size), a range since the positions increase with k.
        private static (int First, int End) Inside(long first, int dilation, int kernel, int size)
        {
            int k0 = first >= 0 ? 0 : (int)Math.Min(kernel, (-first + dilation - 1) / dilation);
            long room = size - 1 - first;
            int k1 = room < 0 ? 0 : (int)Math.Min(kernel, (room / dilation) + 1);
            return (k0, Math.Max(k0, k1));
        }
    }
}
