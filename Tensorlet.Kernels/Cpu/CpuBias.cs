using System.Buffers;

namespace Tensorlet.Kernels.Cpu;

/// <summary>The bias kernels on the CPU: add a bias row to every row, and its backward, the column sum.</summary>
internal static unsafe class CpuBias
{
    /// <summary>x[i, j] += bias[j] for x [rows, bias.Length]; parallel over blocks of rows, SIMD along each row.</summary>
    public static void AddBias(Span<float> x, ReadOnlySpan<float> bias, int threads)
    {
        int columns = bias.Length;
        if (columns == 0 || x.Length == 0)
        {
            return;
        }

        long rows = x.Length / columns;
        fixed (float* xp = x, bp = bias)
        {
            long minRows = Math.Max(1, CpuParallel.MinElementsPerChunk / columns);
            CpuParallel.For(rows, minRows, threads, new AddBiasRows(xp, bp, columns));
        }
    }

    /// <summary>
    /// result[j] = (accumulate ? result[j] : 0) + Σ_i x[i, j] for x [rows, result.Length], accumulated in double.
    /// Each thread sums a contiguous block of rows into its own double row (SIMD along the row, so reads stay
    /// contiguous), then the partial rows are added in a fixed order: deterministic for a given thread count.
    /// </summary>
    public static void SumColumns(ReadOnlySpan<float> x, Span<float> result, bool accumulate, int threads)
    {
        int columns = result.Length;
        if (columns == 0)
        {
            return;
        }

        long rows = x.Length / columns;
        threads = CpuParallel.Threads(threads);
        long minRows = Math.Max(1, CpuParallel.MinElementsPerChunk / columns);
        int chunks = (int)Math.Max(1, Math.Min(threads, rows / minRows));
        var partials = ArrayPool<double>.Shared.Rent(chunks * columns);
        Array.Clear(partials, 0, chunks * columns);
        try
        {
            SumRowBlocks(x, columns, rows, chunks, partials);
            for (int j = 0; j < columns; j++)
            {
                double sum = accumulate ? result[j] : 0;
                for (int chunk = 0; chunk < chunks; chunk++)
                {
                    sum += partials[(chunk * columns) + j];
                }

                result[j] = (float)sum;
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
        }
    }

    private static void SumRowBlocks(ReadOnlySpan<float> x, int columns, long rows, int chunks, double[] partials)
    {
        fixed (float* xp = x)
        {
            if (chunks == 1)
            {
                // A parallel loop of one chunk costs a fork and a join for nothing (the n-gram's [100, 100] gradients).
                SumRows(xp, columns, 0, rows, new Span<double>(partials, 0, columns));
                return;
            }

            fixed (double* pp = partials)
            {
                CpuParallel.ForItems(chunks, chunks, new SumRowBlock(xp, columns, rows, chunks, pp));
            }
        }
    }

    private static void SumRows(float* x, int columns, long start, long end, Span<double> sums)
    {
        for (long i = start; i < end; i++)
        {
            CpuReduction.AccumulateRow(new ReadOnlySpan<float>(x + (i * columns), columns), sums);
        }
    }

    private readonly struct AddBiasRows(float* x, float* bias, int columns) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var b = new ReadOnlySpan<float>(bias, columns);
            for (long i = start; i < start + count; i++)
            {
                var row = new Span<float>(x + (i * columns), columns);
                CpuElementwise.Binary(row, b, row, default(AddOperator));
            }
        }
    }

    /// <summary>Block i of the rows, summed into its own row of partials.</summary>
    private readonly struct SumRowBlock(float* x, int columns, long rows, int chunks, double* partials) : IParallelItems
    {
        public void Run(int item)
        {
            long start = rows * item / chunks;
            long end = rows * (item + 1) / chunks;
            SumRows(x, columns, start, end, new Span<double>(partials + ((long)item * columns), columns));
        }
    }
}
