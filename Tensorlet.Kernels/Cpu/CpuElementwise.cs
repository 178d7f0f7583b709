using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The one SIMD loop per arity behind every elementwise CPU kernel (TensorPrimitives style): whole registers of the
/// widest accelerated width up to the one asked for (Vector512, Vector256, Vector128), then the narrower widths and
/// single floats for the tail, each through the same operator struct. The Parallel variants split large ranges
/// across threads. Output may alias an input element for element (in place).
/// </summary>
internal static unsafe class CpuElementwise
{
    /// <summary>y[i] = op(x[i]) on the calling thread, at most <paramref name="width"/> wide.</summary>
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op, CpuVectorWidth width = CpuVectorWidth.Vector512)
        where TOp : struct, IUnaryOperator
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.");
        }

        fixed (float* xp = x, yp = y)
        {
            int n = x.Length, i = 0;
            if (width >= CpuVectorWidth.Vector512)
            {
                UnarySweep<TOp, FloatLanes512, Vector512<float>>(xp, yp, n, ref i, op);
            }

            if (width >= CpuVectorWidth.Vector256)
            {
                UnarySweep<TOp, FloatLanes256, Vector256<float>>(xp, yp, n, ref i, op);
            }

            if (width >= CpuVectorWidth.Vector128)
            {
                UnarySweep<TOp, FloatLanes128, Vector128<float>>(xp, yp, n, ref i, op);
            }

            UnarySweep<TOp, FloatLanes1, float>(xp, yp, n, ref i, op);
        }
    }

    /// <summary>d[i] = op(x[i], y[i]) on the calling thread, at most <paramref name="width"/> wide.</summary>
    public static void Binary<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, TOp op, CpuVectorWidth width = CpuVectorWidth.Vector512)
        where TOp : struct, IBinaryOperator
    {
        if (x.Length != y.Length || x.Length != d.Length)
        {
            throw new ArgumentException("x, y and d must have the same length.");
        }

        fixed (float* xp = x, yp = y, dp = d)
        {
            int n = x.Length, i = 0;
            if (width >= CpuVectorWidth.Vector512)
            {
                BinarySweep<TOp, FloatLanes512, Vector512<float>>(xp, yp, dp, n, ref i, op);
            }

            if (width >= CpuVectorWidth.Vector256)
            {
                BinarySweep<TOp, FloatLanes256, Vector256<float>>(xp, yp, dp, n, ref i, op);
            }

            if (width >= CpuVectorWidth.Vector128)
            {
                BinarySweep<TOp, FloatLanes128, Vector128<float>>(xp, yp, dp, n, ref i, op);
            }

            BinarySweep<TOp, FloatLanes1, float>(xp, yp, dp, n, ref i, op);
        }
    }

    /// <summary>y[i] = op(x[i]), split across threads when large.</summary>
    public static void UnaryParallel<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op, int threads, CpuVectorWidth width = CpuVectorWidth.Vector512)
        where TOp : struct, IUnaryOperator
    {
        if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            Unary(x, y, op, width);
            return;
        }

        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.");
        }

        fixed (float* xp = x, yp = y)
        {
            CpuParallel.For(x.Length, CpuParallel.MinElementsPerChunk, threads, new UnaryChunk<TOp>(xp, yp, op, width));
        }
    }

    /// <summary>d[i] = op(x[i], y[i]), split across threads when large.</summary>
    public static void BinaryParallel<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, TOp op, int threads, CpuVectorWidth width = CpuVectorWidth.Vector512)
        where TOp : struct, IBinaryOperator
    {
        if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
        {
            Binary(x, y, d, op, width);
            return;
        }

        if (x.Length != y.Length || x.Length != d.Length)
        {
            throw new ArgumentException("x, y and d must have the same length.");
        }

        fixed (float* xp = x, yp = y, dp = d)
        {
            CpuParallel.For(x.Length, CpuParallel.MinElementsPerChunk, threads, new BinaryChunk<TOp>(xp, yp, dp, op, width));
        }
    }

    /// <summary>Whole registers of <typeparamref name="TLanes"/> from i onward (when that width is accelerated); leaves the rest to the next, narrower one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UnarySweep<TOp, TLanes, TVector>(float* x, float* y, int n, ref int i, TOp op)
        where TOp : struct, IUnaryOperator
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        if (!TLanes.IsAccelerated)
        {
            return;
        }

        for (; i <= n - TLanes.Count; i += TLanes.Count)
        {
            TLanes.Store(op.Invoke<TLanes, TVector>(TLanes.Load(x + i)), y + i);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BinarySweep<TOp, TLanes, TVector>(float* x, float* y, float* d, int n, ref int i, TOp op)
        where TOp : struct, IBinaryOperator
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        if (!TLanes.IsAccelerated)
        {
            return;
        }

        for (; i <= n - TLanes.Count; i += TLanes.Count)
        {
            TLanes.Store(op.Invoke<TLanes, TVector>(TLanes.Load(x + i), TLanes.Load(y + i)), d + i);
        }
    }

    /// <summary>One thread's part of <see cref="UnaryParallel{TOp}"/>; the spans stay pinned until the loop returns.</summary>
    private readonly struct UnaryChunk<TOp>(float* x, float* y, TOp op, CpuVectorWidth width) : IParallelRange
        where TOp : struct, IUnaryOperator
    {
        public void Run(long start, long count) =>
            Unary(new ReadOnlySpan<float>(x + start, (int)count), new Span<float>(y + start, (int)count), op, width);
    }

    /// <summary>One thread's part of <see cref="BinaryParallel{TOp}"/>.</summary>
    private readonly struct BinaryChunk<TOp>(float* x, float* y, float* d, TOp op, CpuVectorWidth width) : IParallelRange
        where TOp : struct, IBinaryOperator
    {
        public void Run(long start, long count) =>
            Binary(new ReadOnlySpan<float>(x + start, (int)count), new ReadOnlySpan<float>(y + start, (int)count), new Span<float>(d + start, (int)count), op, width);
    }
}
