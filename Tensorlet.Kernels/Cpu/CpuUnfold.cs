namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The unfold (im2col) and fold (col2im) of a 1-d convolution in plain C# (<see cref="Conv1dGeometry"/> has the
/// layout). The unfold runs over blocks of rows of the unfolded matrix, each row written once and in order; the fold runs
/// over blocks of the rows [c, :] of x, each element the sum of its taps in order of j, so no two threads write the same
/// element and the floats are those the ILGPU fold gives. Both are memory-bound copies (the fold adds at most k values
/// per element), so the loops are left to the JIT.
/// </summary>
internal static unsafe class CpuUnfold
{
    /// <summary>columns [N·L_out, C·k] = unfold(x [N, C, L]), 0 at padded positions.</summary>
    public static void Unfold(ReadOnlySpan<float> x, Span<float> columns, Conv1dGeometry geometry, int threads)
    {
        CheckLengths(x.Length, columns.Length, geometry);
        if (columns.IsEmpty)
        {
            return;
        }

        fixed (float* xp = x, cp = columns)
        {
            if (geometry == Conv1dGeometry.Transpose(geometry.Batch, geometry.Channels, geometry.Length))
            {
                CpuParallel.For(geometry.Batch, Math.Max(1, CpuParallel.MinElementsPerChunk / ((long)geometry.Channels * geometry.Length)), threads, new TransposeSamples(xp, cp, geometry.Channels, geometry.Length, fold: false));
                return;
            }

            CpuParallel.For(geometry.Rows, Math.Max(1, CpuParallel.MinElementsPerChunk / geometry.Width), threads, new UnfoldRows(xp, cp, geometry));
        }
    }

    /// <summary>x [N, C, L] = fold(columns [N·L_out, C·k]): each element of x is the sum of the columns' elements the unfold read from it (0 for none).</summary>
    public static void Fold(ReadOnlySpan<float> columns, Span<float> x, Conv1dGeometry geometry, int threads)
    {
        CheckLengths(x.Length, columns.Length, geometry);
        if (x.IsEmpty)
        {
            return;
        }

        fixed (float* xp = x, cp = columns)
        {
            if (geometry == Conv1dGeometry.Transpose(geometry.Batch, geometry.Channels, geometry.Length))
            {
                CpuParallel.For(geometry.Batch, Math.Max(1, CpuParallel.MinElementsPerChunk / ((long)geometry.Channels * geometry.Length)), threads, new TransposeSamples(cp, xp, geometry.Length, geometry.Channels, fold: true));
                return;
            }

            long rows = (long)geometry.Batch * geometry.Channels;
            CpuParallel.For(rows, Math.Max(1, CpuParallel.MinElementsPerChunk / ((long)geometry.Length * geometry.KernelSize)), threads, new FoldRows(cp, xp, geometry));
        }
    }

    private static void CheckLengths(int xLength, int columnsLength, Conv1dGeometry g)
    {
        if (xLength != (long)g.Batch * g.Channels * g.Length || columnsLength != (long)g.Rows * g.Width)
        {
            throw new ArgumentException($"Unfold: x has {xLength} elements and columns {columnsLength}; {g} needs {(long)g.Batch * g.Channels * g.Length} and {(long)g.Rows * g.Width}.");
        }
    }

    /// <summary>Rows [start, start + count) of the unfolded matrix.</summary>
    private readonly struct UnfoldRows(float* x, float* columns, Conv1dGeometry g) : IParallelRange
    {
        public void Run(long start, long count)
        {
            int outLength = g.OutputLength, length = g.Length, k = g.KernelSize, dilation = g.Dilation;
            for (long row = start; row < start + count; row++)
            {
                long n = row / outLength;
                int first = (int)(row - (n * outLength)) * g.Stride - g.PaddingLeft;
                float* target = columns + (row * g.Width);
                float* sample = x + (n * g.Channels * length);
                for (int c = 0; c < g.Channels; c++)
                {
                    float* channel = sample + ((long)c * length);
                    for (int j = 0; j < k; j++)
                    {
                        int position = first + (j * dilation);
                        target[j] = (uint)position < (uint)length ? channel[position] : 0f;
                    }

                    target += k;
                }
            }
        }
    }

    /// <summary>
    /// Rows [start, start + count) of x read as [N·C, L]. Each row is cleared, then every tap j in order adds its column
    /// of the sample's rows to the positions it read: a position takes at most one term per tap, so it sums its terms in
    /// order of j, as a sum per position would, with no division per term.
    /// </summary>
    private readonly struct FoldRows(float* columns, float* x, Conv1dGeometry g) : IParallelRange
    {
        public void Run(long start, long count)
        {
            int outLength = g.OutputLength, length = g.Length, k = g.KernelSize, rowLength = g.Width;
            for (long row = start; row < start + count; row++)
            {
                long n = row / g.Channels;
                long c = row - (n * g.Channels);
                float* source = columns + (n * outLength * rowLength) + (c * k);
                float* target = x + (row * length);
                new Span<float>(target, length).Clear();
                for (int j = 0; j < k; j++)
                {
                    // In long: s·stride and j·dilation each may pass int.MaxValue.
                    long first = ((long)j * g.Dilation) - g.PaddingLeft;
                    for (int s = 0; s < outLength; s++)
                    {
                        long l = first + ((long)s * g.Stride);
                        if ((ulong)l < (ulong)length)
                        {
                            target[l] += source[((long)s * rowLength) + j];
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Samples [start, start + count) of the unfold or fold of <see cref="Conv1dGeometry.Transpose"/>: each sample's
    /// [rows, columns] matrix of the source to [columns, rows] in the target. The fold adds its one term to 0, as the
    /// other folds do, so a −0 comes out as the ILGPU fold gives it, +0.
    /// </summary>
    private readonly struct TransposeSamples(float* source, float* target, int rows, int columns, bool fold) : IParallelRange
    {
        public void Run(long start, long count)
        {
            long size = (long)rows * columns;
            for (long n = start; n < start + count; n++)
            {
                CpuTranspose.Matrix(source + (n * size), rows, columns, target + (n * size), fold ? 0f : -0f);
            }
        }
    }
}
