using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The one SIMD loop per arity behind every elementwise CPU kernel (TensorPrimitives style): the operator struct's
/// loop run widest first by <see cref="FloatLanesLoop"/> (whole registers of the widest accelerated width up to the one
/// asked for, then the narrower widths and single floats for the tail). The Parallel variants split large ranges
/// across threads. Output may alias an input element for element (in place).
/// </summary>
internal static unsafe class CpuElementwise
{
    /// <summary>y[i] = op(x[i]) on the calling thread, at most <paramref name="width"/> wide.</summary>
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op, CpuVectorWidth width)
        where TOp : struct, IUnaryOperator
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.");
        }

        fixed (float* xp = x, yp = y)
        {
            FloatLanesLoop.Run(new UnaryRegisters<TOp>(xp, yp, op), x.Length, width);
        }
    }

    /// <summary>d[i] = op(x[i], y[i]) on the calling thread, at most <paramref name="width"/> wide.</summary>
    public static void Binary<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, TOp op, CpuVectorWidth width)
        where TOp : struct, IBinaryOperator
    {
        if (x.Length != y.Length || x.Length != d.Length)
        {
            throw new ArgumentException("x, y and d must have the same length.");
        }

        fixed (float* xp = x, yp = y, dp = d)
        {
            FloatLanesLoop.Run(new BinaryRegisters<TOp>(xp, yp, dp, op), x.Length, width);
        }
    }

    /// <summary>y[i] = op(x[i]), split across threads when large.</summary>
    public static void UnaryParallel<TOp>(ReadOnlySpan<float> x, Span<float> y, TOp op, int threads, CpuVectorWidth width)
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
    public static void BinaryParallel<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d, TOp op, int threads, CpuVectorWidth width)
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

    /// <summary>y = op(x) over elements [start, n) in whole registers of one width (<see cref="FloatLanesLoop"/> runs the widths).</summary>
    private readonly struct UnaryRegisters<TOp>(float* x, float* y, TOp op) : IFloatLanesSweep
        where TOp : struct, IUnaryOperator
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => UnaryLoop<TOp, TLanes, TVector>(x, y, start, n, op);
    }

    /// <summary>d = op(x, y) over elements [start, n) in whole registers of one width.</summary>
    private readonly struct BinaryRegisters<TOp>(float* x, float* y, float* d, TOp op) : IFloatLanesSweep
        where TOp : struct, IBinaryOperator
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => BinaryLoop<TOp, TLanes, TVector>(x, y, d, start, n, op);
    }

    // The pointers arrive as parameters, not struct fields, so the JIT keeps them in registers across the stores (IFloatLanesSweep).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int UnaryLoop<TOp, TLanes, TVector>(float* x, float* y, int start, int n, TOp op)
        where TOp : struct, IUnaryOperator
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int i = start;
        for (; i <= n - TLanes.Count; i += TLanes.Count)
        {
            TLanes.Store(op.Invoke<TLanes, TVector>(TLanes.Load(x + i)), y + i);
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BinaryLoop<TOp, TLanes, TVector>(float* x, float* y, float* d, int start, int n, TOp op)
        where TOp : struct, IBinaryOperator
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int i = start;
        for (; i <= n - TLanes.Count; i += TLanes.Count)
        {
            TLanes.Store(op.Invoke<TLanes, TVector>(TLanes.Load(x + i), TLanes.Load(y + i)), d + i);
        }

        return i;
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
