namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The unfold (im2col) and fold (col2im) of a 2-d convolution in plain C# (<see cref="Conv2dGeometry"/> has the
/// layout), as <see cref="CpuUnfold"/> is for one axis. The unfold runs over blocks of rows of the unfolded matrix, each
/// row written once and in order; the fold runs over blocks of the planes [n, c, :, :] of x, each element the sum of its
/// taps in order of (i, j), so no two threads write the same element and the floats are those the ILGPU fold gives.
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
            long planes = (long)geometry.Batch * geometry.Channels;
            CpuParallel.For(planes, Math.Max(1, CpuParallel.MinElementsPerChunk / ((long)geometry.Height * geometry.Width * geometry.Window.Taps)), threads, new FoldRows(cp, xp, geometry));
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
    /// Planes [start, start + count) of x read as [N·C, H·W]. Each plane is cleared, then every tap (i, j) in order adds
    /// its column of the image's rows to the elements it read: an element takes at most one term per tap, so it sums
    /// its terms in order of (i, j), as a sum per element would, with no division per term.
    /// </summary>
    private readonly struct FoldRows(float* columns, float* x, Conv2dGeometry g) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var w = g.Window;
            int outHeight = g.OutputHeight, outWidth = g.OutputWidth, rowLength = g.RowLength, height = g.Height, width = g.Width;
            long plane = (long)height * width;
            for (long image = start; image < start + count; image++)
            {
                long n = image / g.Channels;
                long c = image - (n * g.Channels);
                float* source = columns + (n * outHeight * outWidth * rowLength) + (c * w.Taps);
                float* target = x + (image * plane);
                new Span<float>(target, (int)plane).Clear();
                for (int i = 0; i < w.KernelHeight; i++)
                {
                    for (int s = 0; s < outHeight; s++)
                    {
                        // In long: s·stride and i·dilation each may pass int.MaxValue.
                        long h = ((long)s * w.StrideHeight) - w.PaddingTop + ((long)i * w.DilationHeight);
                        if ((ulong)h >= (ulong)height)
                        {
                            continue;
                        }

                        float* line = target + (h * width);
                        float* taps = source + ((long)s * outWidth * rowLength) + (i * w.KernelWidth);
                        for (int j = 0; j < w.KernelWidth; j++)
                        {
                            long first = ((long)j * w.DilationWidth) - w.PaddingLeft;
                            for (int t = 0; t < outWidth; t++)
                            {
                                long v = first + ((long)t * w.StrideWidth);
                                if ((ulong)v < (ulong)width)
                                {
                                    line[v] += taps[((long)t * rowLength) + j];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
