namespace Tensorlet.Kernels.Cpu;

/// <summary>Splits a range into one contiguous chunk per thread, but never chunks so small that the fork costs more than the work.</summary>
internal static class CpuParallel
{
    /// <summary>Elements per chunk below which a memory-bound elementwise loop is not worth another thread (about 64 KiB of floats).</summary>
    public const long MinElementsPerChunk = 16384;

    /// <summary>Runs <paramref name="body"/>(start, count) over [0, length), in parallel when the range is large enough.</summary>
    public static void For(long length, long minChunk, ParallelOptions parallelism, Action<long, long> body)
    {
        if (length <= 0)
        {
            return;
        }

        int threads = Math.Max(1, parallelism.MaxDegreeOfParallelism);
        long chunks = Math.Min(threads, Math.Max(1, length / Math.Max(1, minChunk)));
        if (chunks <= 1)
        {
            body(0, length);
            return;
        }

        Parallel.For(0, (int)chunks, parallelism, chunk =>
        {
            long start = length * chunk / chunks;
            long end = length * (chunk + 1) / chunks;
            body(start, end - start);
        });
    }

    /// <summary>
    /// Runs <paramref name="body"/>(firstRow, endRow) over whole rows, one block per thread, but only as many
    /// blocks as give each at least <paramref name="minElementsPerThread"/> elements.
    /// </summary>
    public static void ForRowBlocks(int rows, int elementsPerRow, long minElementsPerThread, int maxDegreeOfParallelism, Action<int, int> body)
    {
        long blocks = Math.Min(Math.Min(maxDegreeOfParallelism, rows), (long)rows * elementsPerRow / minElementsPerThread);
        if (blocks <= 1)
        {
            body(0, rows);
            return;
        }

        Parallel.For(0, (int)blocks, new ParallelOptions { MaxDegreeOfParallelism = (int)blocks }, k =>
            body((int)(rows * k / blocks), (int)(rows * (k + 1) / blocks)));
    }
}
