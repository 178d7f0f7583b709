using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The fused elementwise losses (<see cref="ElementwiseLossKind"/>): one pass writes gradient[i] = gradScale·dℓ/dx[i]
/// and returns Σ ℓ(x[i], y[i]) in double, through one loop for every loss, generic over its
/// <see cref="IElementwiseLossOperator"/> and run widest first by <see cref="FloatLanesLoop"/>. Each register's losses
/// are widened and added in double. Large inputs are split into one chunk per thread; the chunks depend only on the
/// length and the thread count, and their sums are added in order, so the result is deterministic for a thread count.
/// </summary>
internal static unsafe class CpuElementwiseLoss
{
    /// <summary>
    /// The loss <paramref name="kind"/> (β or δ in <paramref name="parameter"/>) over x and y, of one length; the
    /// positive weight, empty or one per column of rows of its length, applies to <see cref="ElementwiseLossKind.BceWithLogits"/> only.
    /// </summary>
    public static double Evaluate(
        ElementwiseLossKind kind, float parameter, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> posWeight, Span<float> gradient, float gradScale, int threads, CpuVectorWidth width)
        => kind switch
        {
            ElementwiseLossKind.Mse => Run(x, y, default, gradient, gradScale, default(MseLossOperator), threads, width),
            ElementwiseLossKind.L1 => Run(x, y, default, gradient, gradScale, default(L1LossOperator), threads, width),
            ElementwiseLossKind.SmoothL1 => Run(x, y, default, gradient, gradScale, new SmoothL1LossOperator(parameter), threads, width),
            ElementwiseLossKind.Huber => Run(x, y, default, gradient, gradScale, new HuberLossOperator(parameter), threads, width),
            ElementwiseLossKind.BceWithLogits => Run(x, y, posWeight, gradient, gradScale, new BceWithLogitsLossOperator(posWeight.Length > 0), threads, width),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an elementwise loss."),
        };

    /// <summary>
    /// gradient[i] = gradScale·dℓ/dx[i]; returns Σ ℓ(x[i], y[i], weight[i mod C]) in double, C = weight.Length (a
    /// weight of 1 where it is empty). x, y and gradient have one length, a multiple of C; gradient may be x or y.
    /// </summary>
    public static double Run<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> weight, Span<float> gradient, float gradScale, TOp op, int threads, CpuVectorWidth width)
        where TOp : struct, IElementwiseLossOperator
    {
        if (x.Length != y.Length || x.Length != gradient.Length || (weight.Length > 0 && x.Length % weight.Length != 0))
        {
            throw new ArgumentException("x, y and gradient must have one length, a multiple of the weight's.");
        }

        fixed (float* xp = x, yp = y, wp = weight, gp = gradient)
        {
            if (x.Length < 2 * CpuParallel.MinElementsPerChunk)
            {
                return Chunk(xp, yp, wp, weight.Length, gp, 0, x.Length, gradScale, op, width);
            }

            threads = CpuParallel.Threads(threads);
            double* partials = stackalloc double[threads];
            CpuParallel.ForItems(threads, threads, new LossChunk<TOp>(xp, yp, wp, weight.Length, gp, x.Length, threads, partials, gradScale, op, width));
            double sum = 0;
            for (int chunk = 0; chunk < threads; chunk++)
            {
                sum += partials[chunk];
            }

            return sum;
        }
    }

    /// <summary>Elements [start, end), run by rows of the weight where there is one, so each register reads its weights contiguously.</summary>
    private static double Chunk<TOp>(float* x, float* y, float* weight, int columns, float* gradient, long start, long end, float gradScale, TOp op, CpuVectorWidth width)
        where TOp : struct, IElementwiseLossOperator
    {
        double sum = 0;
        if (columns <= 1)
        {
            // No weight, or one for every element: a register of it, not a row of one column at a time.
            float fixedWeight = columns == 0 ? 1f : *weight;
            FloatLanesLoop.Run(new LossRegisters<TOp>(x + start, y + start, null, fixedWeight, gradient + start, gradScale, &sum, op), (int)(end - start), width);
            return sum;
        }

        for (long i = start; i < end;)
        {
            long column = i % columns;
            long stop = Math.Min(end, i - column + columns);
            FloatLanesLoop.Run(new LossRegisters<TOp>(x + i, y + i, weight + column, 1f, gradient + i, gradScale, &sum, op), (int)(stop - i), width);
            i = stop;
        }

        return sum;
    }

    /// <summary>
    /// The loss over elements [start, n) in whole registers of one width, its sum added to *sum; the weight of element i
    /// is weight[i], or <paramref name="fixedWeight"/> for every element where weight is null.
    /// </summary>
    private readonly struct LossRegisters<TOp>(float* x, float* y, float* weight, float fixedWeight, float* gradient, float gradScale, double* sum, TOp op) : IFloatLanesSweep
        where TOp : struct, IElementwiseLossOperator
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Loop<TOp, TLanes, TVector>(x, y, weight, fixedWeight, gradient, start, n, gradScale, sum, op);
    }

    // The pointers arrive as parameters, not struct fields, so the JIT keeps them in registers across the stores (IFloatLanesSweep).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Loop<TOp, TLanes, TVector>(float* x, float* y, float* weight, float fixedWeight, float* gradient, int start, int n, float gradScale, double* sum, TOp op)
        where TOp : struct, IElementwiseLossOperator
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var scale = TLanes.Create(gradScale);
        var fixedWeights = TLanes.Create(fixedWeight);
        double total = 0;
        int i = start;
        for (; i <= n - TLanes.Count; i += TLanes.Count)
        {
            var w = weight == null ? fixedWeights : TLanes.Load(weight + i);
            var loss = op.Invoke<TLanes, TVector>(TLanes.Load(x + i), TLanes.Load(y + i), w, out var g);
            TLanes.Store(TLanes.Multiply(g, scale), gradient + i);
            total += TLanes.SumAcrossWidened(loss);
        }

        *sum += total;
        return i;
    }

    /// <summary>Chunk i of the parallel <see cref="Run{TOp}"/>, into partials[i]; the spans stay pinned until the loop returns.</summary>
    private readonly struct LossChunk<TOp>(float* x, float* y, float* weight, int columns, float* gradient, long length, int chunks, double* partials, float gradScale, TOp op, CpuVectorWidth width) : IParallelItems
        where TOp : struct, IElementwiseLossOperator
    {
        public void Run(int item)
            => partials[item] = Chunk(x, y, weight, columns, gradient, length * item / chunks, length * (item + 1) / chunks, gradScale, op, width);
    }
}
