using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Reductions accumulated in double: each float is widened before it is squared or added, so the sum of millions of
/// terms keeps float precision. Each loop takes whole registers of the widest accelerated width up to the one asked
/// for (Vector128 is the whole loop on ARM64), then single floats.
/// </summary>
internal static unsafe class CpuReduction
{
    /// <summary>Σ x², in double, on the calling thread, at most <paramref name="width"/> wide.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x, CpuVectorWidth width)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        double sum = 0;
        if (width >= CpuVectorWidth.Vector512 && Vector512.IsHardwareAccelerated)
        {
            var acc0 = Vector512<double>.Zero;
            var acc1 = Vector512<double>.Zero;
            for (; i + (nuint)Vector512<float>.Count <= n; i += (nuint)Vector512<float>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref xr, i));
                acc0 += lo * lo;
                acc1 += hi * hi;
            }

            sum += Vector512.Sum(acc0 + acc1);
        }

        if (width >= CpuVectorWidth.Vector256 && Vector256.IsHardwareAccelerated)
        {
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, i));
                acc0 += lo * lo;
                acc1 += hi * hi;
            }

            sum += Vector256.Sum(acc0 + acc1);
        }

        if (width >= CpuVectorWidth.Vector128 && Vector128.IsHardwareAccelerated)
        {
            var acc0 = Vector128<double>.Zero;
            var acc1 = Vector128<double>.Zero;
            for (; i + (nuint)Vector128<float>.Count <= n; i += (nuint)Vector128<float>.Count)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, i));
                acc0 += lo * lo;
                acc1 += hi * hi;
            }

            sum += Vector128.Sum(acc0 + acc1);
        }

        for (; i < n; i++)
        {
            double v = Unsafe.Add(ref xr, i);
            sum += v * v;
        }

        return sum;
    }

    /// <summary>Σ x², in double, split across threads; the chunking depends only on the length and thread count, so the result is deterministic.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x, int threads, CpuVectorWidth width)
    {
        if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            return SumOfSquares(x, width);
        }

        threads = CpuParallel.Threads(threads);
        double* partials = stackalloc double[threads];
        fixed (float* xp = x)
        {
            CpuParallel.ForItems(threads, threads, new SumOfSquaresChunk(xp, x.Length, threads, partials, width));
        }

        double sum = 0;
        for (int chunk = 0; chunk < threads; chunk++)
        {
            sum += partials[chunk];
        }

        return sum;
    }

    /// <summary>sums[j] += x[j] for one row, widening to double, at most <paramref name="width"/> wide.</summary>
    public static void AccumulateRow(ReadOnlySpan<float> x, Span<double> sums, CpuVectorWidth width)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref double sr = ref MemoryMarshal.GetReference(sums);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (width >= CpuVectorWidth.Vector512 && Vector512.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector512<float>.Count <= n; i += (nuint)Vector512<float>.Count)
            {
                var (lo, hi) = Vector512.Widen(Vector512.LoadUnsafe(ref xr, i));
                (Vector512.LoadUnsafe(ref sr, i) + lo).StoreUnsafe(ref sr, i);
                (Vector512.LoadUnsafe(ref sr, i + (nuint)Vector512<double>.Count) + hi).StoreUnsafe(ref sr, i + (nuint)Vector512<double>.Count);
            }
        }

        if (width >= CpuVectorWidth.Vector256 && Vector256.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xr, i));
                (Vector256.LoadUnsafe(ref sr, i) + lo).StoreUnsafe(ref sr, i);
                (Vector256.LoadUnsafe(ref sr, i + (nuint)Vector256<double>.Count) + hi).StoreUnsafe(ref sr, i + (nuint)Vector256<double>.Count);
            }
        }

        if (width >= CpuVectorWidth.Vector128 && Vector128.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector128<float>.Count <= n; i += (nuint)Vector128<float>.Count)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xr, i));
                (Vector128.LoadUnsafe(ref sr, i) + lo).StoreUnsafe(ref sr, i);
                (Vector128.LoadUnsafe(ref sr, i + (nuint)Vector128<double>.Count) + hi).StoreUnsafe(ref sr, i + (nuint)Vector128<double>.Count);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref sr, i) += Unsafe.Add(ref xr, i);
        }
    }

    /// <summary>Chunk i of the parallel <see cref="SumOfSquares(ReadOnlySpan{float}, int, CpuVectorWidth)"/>, into partials[i].</summary>
    private readonly struct SumOfSquaresChunk(float* x, long length, int chunks, double* partials, CpuVectorWidth width) : IParallelItems
    {
        public void Run(int item)
        {
            long start = length * item / chunks;
            long end = length * (item + 1) / chunks;
            partials[item] = SumOfSquares(new ReadOnlySpan<float>(x + start, (int)(end - start)), width);
        }
    }
}
