namespace Tensorlet.Kernels.Cpu;

/// <summary>Row-wise kernels on a [rows, columns] matrix: the index of each row's maximum, and a per-row scale.</summary>
internal static unsafe class CpuRows
{
    /// <summary>
    /// result[r] = the first j with x[r, j] = max_j x[r, j], as torch.argmax(dim=1); a NaN counts as the maximum
    /// (torch's rule), so a row holding one reports the first NaN.
    /// </summary>
    public static void Argmax(ReadOnlySpan<float> x, int rows, int columns, Span<int> result, int threads)
    {
        if (rows == 0 || columns == 0)
        {
            return;
        }

        fixed (float* xp = x)
        fixed (int* rp = result)
        {
            CpuParallel.For(rows, Math.Max(1, CpuParallel.MinElementsPerChunk / columns), threads, new ArgmaxRows(xp, rp, columns));
        }
    }

    /// <summary>x[r, j] *= scale[r], at most <paramref name="width"/> wide.</summary>
    public static void Scale(Span<float> x, int rows, int columns, ReadOnlySpan<float> scale, int threads, CpuVectorWidth width)
    {
        if (rows == 0 || columns == 0)
        {
            return;
        }

        fixed (float* xp = x, sp = scale)
        {
            CpuParallel.For(rows, Math.Max(1, CpuParallel.MinElementsPerChunk / columns), threads, new ScaleRows(xp, sp, columns, width));
        }
    }

    private readonly struct ArgmaxRows(float* x, int* result, int columns) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                float* row = x + (r * columns);
                int best = 0;
                float max = row[0];
                for (int j = 1; j < columns && !float.IsNaN(max); j++)
                {
                    if (row[j] > max || float.IsNaN(row[j]))
                    {
                        max = row[j];
                        best = j;
                    }
                }

                result[r] = best;
            }
        }
    }

    private readonly struct ScaleRows(float* x, float* scale, int columns, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                var row = new Span<float>(x + (r * columns), columns);
                CpuElementwise.Unary(row, row, new ScaleOperator(scale[r]), width);
            }
        }
    }
}
