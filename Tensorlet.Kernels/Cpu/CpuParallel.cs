namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The CPU kernels' parallel loops, on <see cref="CpuThreadTeam"/>: a range cut into one contiguous chunk per
/// thread (never chunks so small that waking a thread costs more than the work), and plain item loops.
/// The chunking depends only on the length and the thread count, so every kernel is deterministic for a given
/// thread count. The loop bodies are structs: starting a loop allocates nothing.
/// </summary>
internal static class CpuParallel
{
    /// <summary>Elements per chunk below which a memory-bound elementwise loop is not worth another thread (about 64 KiB of floats).</summary>
    public const long MinElementsPerChunk = 16384;

    /// <summary>The thread count a kernel was given, at least 1.</summary>
    public static int Threads(int threads) => Math.Max(1, threads);

    /// <summary>Runs <paramref name="body"/> over [0, length) in chunks of at least <paramref name="minChunk"/>, at most one per thread.</summary>
    public static void For<TBody>(long length, long minChunk, int threads, TBody body)
        where TBody : struct, IParallelRange
    {
        if (length <= 0)
        {
            return;
        }

        long chunks = Math.Min(Threads(threads), Math.Max(1, length / Math.Max(1, minChunk)));
        RunChunks(length, (int)chunks, ref body);
    }

    /// <summary>
    /// Runs <paramref name="body"/> over whole rows, one block per thread, but only as many blocks as give each
    /// at least <paramref name="minElementsPerThread"/> elements.
    /// </summary>
    public static void ForRowBlocks<TBody>(int rows, int elementsPerRow, long minElementsPerThread, int threads, TBody body)
        where TBody : struct, IParallelRange
    {
        if (rows <= 0)
        {
            return;
        }

        long blocks = Math.Min(Math.Min(threads, rows), (long)rows * elementsPerRow / minElementsPerThread);
        RunChunks(rows, (int)Math.Max(1, blocks), ref body);
    }

    /// <summary>Runs body.Run(i) for i in [0, count) on up to <paramref name="threads"/> threads.</summary>
    public static void ForItems<TBody>(int count, int threads, TBody body)
        where TBody : struct, IParallelItems
    {
        if (count <= 0)
        {
            return;
        }

        if (count == 1 || threads <= 1)
        {
            for (int i = 0; i < count; i++)
            {
                body.Run(i);
            }

            return;
        }

        CpuThreadTeam.Run(count, threads, ref body);
    }

    private static void RunChunks<TBody>(long length, int chunks, ref TBody body)
        where TBody : struct, IParallelRange
    {
        if (chunks <= 1)
        {
            body.Run(0, length);
            return;
        }

        var chunked = new Chunks<TBody>(body, length, chunks);
        CpuThreadTeam.Run(chunks, chunks, ref chunked);
    }

    /// <summary>Chunk i of [0, length) cut into equal contiguous parts.</summary>
    private struct Chunks<TBody>(TBody body, long length, int chunks) : IParallelItems
        where TBody : struct, IParallelRange
    {
        private TBody body = body;

        public void Run(int item)
        {
            long start = length * item / chunks;
            long end = length * (item + 1) / chunks;
            body.Run(start, end - start);
        }
    }
}
