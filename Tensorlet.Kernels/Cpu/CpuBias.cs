using System.Buffers;

namespace Tensorlet.Kernels.Cpu;

/// <summary>The bias kernels on the CPU: set or add a bias row in every row, and the add's backward, the column sum.</summary>
internal static unsafe class CpuBias
{
    /// <summary>x[i, j] = row[j] for x [rows, row.Length]: one write pass, parallel over blocks of rows.</summary>
    public static void FillRows(Span<float> x, ReadOnlySpan<float> row, int threads)
    {
        fixed (float* xp = x, rp = row)
        {
            ForRows(x.Length, row.Length, threads, new FillRowsRange(xp, rp, row.Length));
        }
    }

    /// <summary>x[i, j] += bias[j] for x [rows, bias.Length]; parallel over blocks of rows, SIMD along each row, at most <paramref name="width"/> wide.</summary>
    public static void AddBias(Span<float> x, ReadOnlySpan<float> bias, int threads, CpuVectorWidth width)
    {
        fixed (float* xp = x, bp = bias)
        {
            ForRows(x.Length, bias.Length, threads, new AddBiasRows(xp, bp, bias.Length, width));
        }
    }

    /// <summary>
    /// result[j] = (accumulate ? result[j] : 0) + Σ_i x[i, j] for x [rows, result.Length], accumulated in double.
    /// Each thread sums a contiguous block of rows into its own double row (SIMD along the row, so reads stay
    /// contiguous), then the partial rows are added in a fixed order: deterministic for a given thread count.
    /// </summary>
    public static void SumColumns(ReadOnlySpan<float> x, Span<float> result, bool accumulate, int threads, CpuVectorWidth width)
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
            SumRowBlocks(x, columns, rows, chunks, partials, width);
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

    private static void SumRowBlocks(ReadOnlySpan<float> x, int columns, long rows, int chunks, double[] partials, CpuVectorWidth width)
    {
        fixed (float* xp = x)
        {
            if (chunks == 1)
            {
                // A parallel loop of one chunk costs a fork and a join for nothing (the n-gram's [100, 100] gradients).
                SumRows(xp, columns, 0, rows, new Span<double>(partials, 0, columns), width);
                return;
            }

            fixed (double* pp = partials)
            {
                CpuParallel.ForItems(chunks, chunks, new SumRowBlock(xp, columns, rows, chunks, pp, width));
            }
        }
    }

    private static void SumRows(float* x, int columns, long start, long end, Span<double> sums, CpuVectorWidth width)
    {
        for (long i = start; i < end; i++)
        {
            CpuReduction.AccumulateRow(new ReadOnlySpan<float>(x + (i * columns), columns), sums, width);
        }
    }

    /// <summary>Runs <paramref name="body"/> over the rows of a [length / columns, columns] matrix, in blocks of rows.</summary>
    private static void ForRows<TBody>(long length, int columns, int threads, TBody body)
        where TBody : struct, IParallelRange
    {
        if (columns == 0 || length == 0)
        {
            return;
        }

        long minRows = Math.Max(1, CpuParallel.MinElementsPerChunk / columns);
        CpuParallel.For(length / columns, minRows, threads, body);
    }

    private readonly struct FillRowsRange(float* x, float* row, int columns) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var source = new ReadOnlySpan<float>(row, columns);
            for (long i = start; i < start + count; i++)
            {
                source.CopyTo(new Span<float>(x + (i * columns), columns));
            }
        }
    }

    private readonly struct AddBiasRows(float* x, float* bias, int columns, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var b = new ReadOnlySpan<float>(bias, columns);
            for (long i = start; i < start + count; i++)
            {
                var row = new Span<float>(x + (i * columns), columns);
                CpuElementwise.Binary(row, b, row, default(AddOperator), width);
            }
        }
    }

    /// <summary>Block i of the rows, summed into its own row of partials.</summary>
    private readonly struct SumRowBlock(float* x, int columns, long rows, int chunks, double* partials, CpuVectorWidth width) : IParallelItems
    {
        public void Run(int item)
        {
            long start = rows * item / chunks;
            long end = rows * (item + 1) / chunks;
            SumRows(x, columns, start, end, new Span<double>(partials + ((long)item * columns), columns), width);
        }
    }
}
