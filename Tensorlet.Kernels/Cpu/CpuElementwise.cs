using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The one SIMD loop behind every elementwise CPU kernel (TensorPrimitives style): Vector512 when the
/// hardware has it, else Vector256, then a scalar tail, over an operator struct. The Parallel variants
/// split large ranges across threads. Output may alias an input element for element (in place).
/// </summary>
internal static unsafe class CpuElementwise
{
    /// <summary>y[i] = op(x[i]) on the calling thread.</summary>
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op)
        where TOp : struct, IUnaryOperator
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.");
        }

        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector512<float>.Count <= n; i += (nuint)Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref xr, i)).StoreUnsafe(ref yr, i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref xr, i)).StoreUnsafe(ref yr, i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref yr, i) = op.Invoke(Unsafe.Add(ref xr, i));
        }
    }

    /// <summary>d[i] = op(x[i], y[i]) on the calling thread.</summary>
    public static void Binary<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, TOp op)
        where TOp : struct, IBinaryOperator
    {
        if (x.Length != y.Length || x.Length != d.Length)
        {
            throw new ArgumentException("x, y and d must have the same length.");
        }

        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dr = ref MemoryMarshal.GetReference(d);
        nuint n = (nuint)x.Length;
        nuint i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector512<float>.Count <= n; i += (nuint)Vector512<float>.Count)
            {
                op.Invoke(Vector512.LoadUnsafe(ref xr, i), Vector512.LoadUnsafe(ref yr, i)).StoreUnsafe(ref dr, i);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + (nuint)Vector256<float>.Count <= n; i += (nuint)Vector256<float>.Count)
            {
                op.Invoke(Vector256.LoadUnsafe(ref xr, i), Vector256.LoadUnsafe(ref yr, i)).StoreUnsafe(ref dr, i);
            }
        }

        for (; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = op.Invoke(Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i));
        }
    }

    /// <summary>y[i] = op(x[i]), split across threads when large.</summary>
    public static void UnaryParallel<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op, ParallelOptions parallelism)
        where TOp : struct, IUnaryOperator
    {
        if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            Unary(x, y, op);
            return;
        }

        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.");
        }

        fixed (float* xp = x, yp = y)
        {
            CpuParallel.For(x.Length, CpuParallel.MinElementsPerChunk, parallelism, new UnaryChunk<TOp>(xp, yp, op));
        }
    }

    /// <summary>d[i] = op(x[i], y[i]), split across threads when large.</summary>
    public static void BinaryParallel<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, TOp op, ParallelOptions parallelism)
        where TOp : struct, IBinaryOperator
    {
        if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            Binary(x, y, d, op);
            return;
        }

        if (x.Length != y.Length || x.Length != d.Length)
        {
            throw new ArgumentException("x, y and d must have the same length.");
        }

        fixed (float* xp = x, yp = y, dp = d)
        {
            CpuParallel.For(x.Length, CpuParallel.MinElementsPerChunk, parallelism, new BinaryChunk<TOp>(xp, yp, dp, op));
        }
    }

    /// <summary>One thread's part of <see cref="UnaryParallel{TOp}"/>; the spans stay pinned until the loop returns.</summary>
    private readonly struct UnaryChunk<TOp>(float* x, float* y, TOp op) : IParallelRange
        where TOp : struct, IUnaryOperator
    {
        public void Run(long start, long count) =>
            Unary(new ReadOnlySpan<float>(x + start, (int)count), new Span<float>(y + start, (int)count), op);
    }

    /// <summary>One thread's part of <see cref="BinaryParallel{TOp}"/>.</summary>
    private readonly struct BinaryChunk<TOp>(float* x, float* y, float* d, TOp op) : IParallelRange
        where TOp : struct, IBinaryOperator
    {
        public void Run(long start, long count) =>
            Binary(new ReadOnlySpan<float>(x + start, (int)count), new ReadOnlySpan<float>(y + start, (int)count), new Span<float>(d + start, (int)count), op);
    }
}
