namespace Tensorlet.Kernels.Cpu;

/// <summary>Fill and copy over large float ranges, split across threads: both are bound by memory bandwidth, which one core does not saturate.</summary>
internal static unsafe class CpuMemory
{
    /// <summary>x[i] = value.</summary>
    public static void Fill(Span<float> x, float value, ParallelOptions parallelism)
    {
        if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            x.Fill(value);
            return;
        }

        fixed (float* xf = x)
        {
            float* xp = xf;
            CpuParallel.For(x.Length, CpuParallel.MinElementsPerChunk, parallelism, (start, count) => new Span<float>(xp + start, (int)count).Fill(value));
        }
    }

    /// <summary>destination = source. Overlapping ranges are copied as by memmove, on one thread.</summary>
    public static void Copy(ReadOnlySpan<float> source, Span<float> destination, ParallelOptions parallelism)
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

        fixed (float* sf = source, df = destination)
        {
            float* sp = sf, dp = df;
            CpuParallel.For(source.Length, CpuParallel.MinElementsPerChunk, parallelism, (start, count) =>
                new ReadOnlySpan<float>(sp + start, (int)count).CopyTo(new Span<float>(dp + start, (int)count)));
        }
    }
}
