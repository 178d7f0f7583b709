namespace Tensorlet.Kernels.Cpu;

/// <summary>Fill and copy over large float ranges, split across threads: both are bound by memory bandwidth, which one core does not saturate.</summary>
internal static unsafe class CpuMemory
{
    /// <summary>x[i] = value.</summary>
    public static void Fill(Span<float> x, float value, int threads)
    {
        if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            x.Fill(value);
            return;
        }

        fixed (float* xp = x)
        {
            CpuParallel.For(x.Length, CpuParallel.MinElementsPerChunk, threads, new FillChunk(xp, value));
        }
    }

    /// <summary>destination = source. Overlapping ranges are copied as by memmove, on one thread.</summary>
    public static void Copy(ReadOnlySpan<float> source, Span<float> destination, int threads)
    {
        if (source.Length != destination.Length)
        {
            throw new ArgumentException("source and destination must have the same length.");
        }

        if (source.Length < 2 * CpuParallel.MinElementsPerChunk || source.Overlaps(destination))
        {
            source.CopyTo(destination);
            return;
        }

        fixed (float* sp = source, dp = destination)
        {
            CpuParallel.For(source.Length, CpuParallel.MinElementsPerChunk, threads, new CopyChunk(sp, dp));
        }
    }

    private readonly struct FillChunk(float* x, float value) : IParallelRange
    {
        public void Run(long start, long count) => new Span<float>(x + start, (int)count).Fill(value);
    }

    private readonly struct CopyChunk(float* source, float* destination) : IParallelRange
    {
        public void Run(long start, long count) =>
            new ReadOnlySpan<float>(source + start, (int)count).CopyTo(new Span<float>(destination + start, (int)count));
    }
}
