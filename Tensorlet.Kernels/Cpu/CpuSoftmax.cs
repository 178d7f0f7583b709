using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Row softmax kernels in SIMD C#, numerically stable: each row of [rows, classes] is shifted by its maximum
/// before exp, so no exp overflows and the largest term is exactly 1. Three sweeps per row, all in cache:
/// the maximum; exp written to the output while it is summed; the final scaling (plus the loss for cross-entropy).
/// Rows are split across threads when there are enough of them.
/// </summary>
internal static unsafe class CpuSoftmax
{
    // About one exp per element; below this many elements per thread, one thread is faster than fork/join.
    private const long MinElementsPerThread = 16384;

    /// <summary>
    /// Fused softmax and cross-entropy: losses[r] = logsumexp(logits[r]) − logits[r, targets[r]] (nats) and
    /// dLogits[r] = (softmax(logits[r]) − onehot(targets[r]))·gradScale. <paramref name="dLogits"/> may be the same
    /// memory as <paramref name="logits"/> (each row's target logit is read before the row is overwritten). A row whose
    /// target is <paramref name="ignoreIndex"/> gets a loss of 0 (written, so logits of ±∞ or NaN there give 0) and the
    /// gradient softmax(logits[r])·0, which is 0, or NaN where the row's softmax is (a NaN or +∞ logit), as PyTorch's.
    /// </summary>
    /// <param name="logits">[rows, classes].</param>
    /// <param name="targets">[rows]: class indices in [0, classes).</param>
    /// <param name="losses">[rows] out: the per-row cross-entropy.</param>
    /// <param name="dLogits">[rows, classes] out: the scaled gradient of Σ losses with respect to the logits.</param>
    /// <param name="rows">N, the rows.</param>
    /// <param name="classes">V, the classes per row.</param>
    /// <param name="gradScale">The factor on the gradient: 1/N gives the gradient of the mean loss.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    /// <param name="ignoreIndex">The target of rows that are skipped; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A target other than <paramref name="ignoreIndex"/> is outside [0, classes); nothing is written.</exception>
    public static void CrossEntropy(
        ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> losses, Span<float> dLogits, int rows, int classes, float gradScale, int threads, CpuVectorWidth width, int? ignoreIndex = null)
    {
        long length = CheckSizes(rows, classes);
        CheckLength(logits.Length, length, nameof(logits));
        CheckLength(dLogits.Length, length, nameof(dLogits));
        CheckLength(targets.Length, rows, nameof(targets));
        CheckLength(losses.Length, rows, nameof(losses));

        // Checked up front, on one thread, so a bad target leaves the outputs untouched and the exception is not wrapped.
        IndexChecks.ThrowIfAnyTargetOutside(targets[..rows], classes, ignoreIndex);

        if (length == 0)
        {
            return;
        }

        fixed (float* pLogits = logits, pLosses = losses, pDLogits = dLogits)
        fixed (int* pTargets = targets)
        {
            CpuParallel.ForRowBlocks(rows, classes, MinElementsPerThread, threads, new CrossEntropyRows(pLogits, pTargets, pLosses, pDLogits, classes, gradScale, ignoreIndex, width));
        }
    }

    /// <summary>
    /// probabilities[r] = softmax(logits[r] / temperature) for every row; <paramref name="probabilities"/> may be
    /// the same memory as <paramref name="logits"/>.
    /// </summary>
    /// <param name="logits">[rows, classes].</param>
    /// <param name="probabilities">[rows, classes] out: each row sums to 1.</param>
    /// <param name="rows">N, the rows.</param>
    /// <param name="classes">V, the classes per row.</param>
    /// <param name="temperature">T &gt; 0: below 1 sharpens the distribution, above 1 flattens it.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void WithTemperature(ReadOnlySpan<float> logits, Span<float> probabilities, int rows, int classes, float temperature, int threads, CpuVectorWidth width)
    {
        long length = CheckSizes(rows, classes);
        CheckLength(logits.Length, length, nameof(logits));
        CheckLength(probabilities.Length, length, nameof(probabilities));
        if (!(temperature > 0f) || float.IsInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), string.Create(CultureInfo.InvariantCulture, $"Temperature must be a positive finite number; got {temperature}."));
        }

        if (length == 0)
        {
            return;
        }

        fixed (float* pLogits = logits, pProbabilities = probabilities)
        {
            // Below about 2.9e-39 the inverse overflows, and (max − max)·∞ would be NaN; float.MaxValue keeps the row's
            // maximum at exp(0) and sends every smaller logit to 0, the limit the temperature approaches.
            CpuParallel.ForRowBlocks(rows, classes, MinElementsPerThread, threads, new TemperatureRows(pLogits, pProbabilities, classes, MathF.Min(1f / temperature, float.MaxValue), width));
        }
    }

    /// <summary>
    /// y[r] = log_softmax(x[r]) = (x[r] − max) − log Σ e^(x[r] − max) for every row (nn.LogSoftmax over the last
    /// dimension), in that order as PyTorch's: max + log Σ would be rounded at the magnitude of max, losing log Σ. <paramref name="y"/> is another buffer than <paramref name="x"/>: it holds each row's exponentials
    /// before their logarithm is subtracted from x.
    /// </summary>
    /// <param name="x">[rows, classes].</param>
    /// <param name="y">[rows, classes] out.</param>
    /// <param name="rows">N, the rows.</param>
    /// <param name="classes">V, the classes per row.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void LogSoftmax(ReadOnlySpan<float> x, Span<float> y, int rows, int classes, int threads, CpuVectorWidth width)
    {
        long length = CheckSizes(rows, classes);
        CheckLength(x.Length, length, nameof(x));
        CheckLength(y.Length, length, nameof(y));
        if (length == 0)
        {
            return;
        }

        fixed (float* pX = x, pY = y)
        {
            CpuParallel.ForRowBlocks(rows, classes, MinElementsPerThread, threads, new LogSoftmaxRows(pX, pY, classes, width));
        }
    }

    /// <summary>
    /// The backward of the softmax y = softmax(x) per row: dx[r] = y[r] ⊙ (dy[r] − Σ_k dy[r,k]·y[r,k]).
    /// <paramref name="dx"/> may be the same memory as <paramref name="dy"/> (each row's sum is taken before it is written).
    /// </summary>
    /// <param name="y">[rows, classes]: the forward's output.</param>
    /// <param name="dy">[rows, classes]: dL/dy.</param>
    /// <param name="dx">[rows, classes] out: dL/dx.</param>
    /// <param name="rows">N, the rows.</param>
    /// <param name="classes">V, the classes per row.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int classes, int threads, CpuVectorWidth width)
        => Backward<SoftmaxKind>(y, dy, dx, rows, classes, threads, width);

    /// <summary>
    /// The backward of the log-softmax y = log_softmax(x) per row: dx[r] = dy[r] − e^y[r]·Σ_k dy[r,k], e^y being the
    /// softmax. <paramref name="dx"/> may be the same memory as <paramref name="dy"/> (each row's sum is taken before it is written).
    /// </summary>
    /// <param name="y">[rows, classes]: the forward's output.</param>
    /// <param name="dy">[rows, classes]: dL/dy.</param>
    /// <param name="dx">[rows, classes] out: dL/dx.</param>
    /// <param name="rows">N, the rows.</param>
    /// <param name="classes">V, the classes per row.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest registers to use.</param>
    public static void LogSoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int classes, int threads, CpuVectorWidth width)
        => Backward<LogSoftmaxKind>(y, dy, dx, rows, classes, threads, width);

    /// <summary>The maximum of the row x[0..n) (−∞ when n = 0), at most <paramref name="width"/> wide.</summary>
    internal static float RowMax(float* x, int n, CpuVectorWidth width)
    {
        int j = 0;
        float max = float.NegativeInfinity;
        if (width >= CpuVectorWidth.Vector512)
        {
            max = MaxSweep<FloatLanes512, Vector512<float>>(x, n, ref j, max);
        }

        if (width >= CpuVectorWidth.Vector256)
        {
            max = MaxSweep<FloatLanes256, Vector256<float>>(x, n, ref j, max);
        }

        if (width >= CpuVectorWidth.Vector128)
        {
            max = MaxSweep<FloatLanes128, Vector128<float>>(x, n, ref j, max);
        }

        return MaxSweep<FloatLanes1, float>(x, n, ref j, max);
    }

    /// <summary>y = e^((x − shift)·k) for the row, at most <paramref name="width"/> wide; returns Σ y.</summary>
    internal static float ExpShiftedStore(float* x, float* y, int n, float shift, float k, CpuVectorWidth width)
    {
        int j = 0;
        float sum = 0f;
        if (width >= CpuVectorWidth.Vector512)
        {
            sum += ExpSweep<FloatLanes512, Vector512<float>>(x, y, n, ref j, shift, k);
        }

        if (width >= CpuVectorWidth.Vector256)
        {
            sum += ExpSweep<FloatLanes256, Vector256<float>>(x, y, n, ref j, shift, k);
        }

        if (width >= CpuVectorWidth.Vector128)
        {
            sum += ExpSweep<FloatLanes128, Vector128<float>>(x, y, n, ref j, shift, k);
        }

        return sum + ExpSweep<FloatLanes1, float>(x, y, n, ref j, shift, k);
    }

    /// <summary>y = (x − max) − logSum for the row.</summary>
    private static void SubtractStore(float* x, float* y, int n, float max, float logSum, CpuVectorWidth width)
    {
        int j = 0;
        if (width >= CpuVectorWidth.Vector512)
        {
            SubtractSweep<FloatLanes512, Vector512<float>>(x, y, n, ref j, max, logSum);
        }

        if (width >= CpuVectorWidth.Vector256)
        {
            SubtractSweep<FloatLanes256, Vector256<float>>(x, y, n, ref j, max, logSum);
        }

        if (width >= CpuVectorWidth.Vector128)
        {
            SubtractSweep<FloatLanes128, Vector128<float>>(x, y, n, ref j, max, logSum);
        }

        SubtractSweep<FloatLanes1, float>(x, y, n, ref j, max, logSum);
    }

    /// <summary>The backward's row sum s: Σ dy⊙y for the softmax, Σ dy for the log-softmax.</summary>
    private static float BackwardSum<TKind>(float* y, float* dy, int n, CpuVectorWidth width)
        where TKind : struct, ISoftmaxKind
    {
        int j = 0;
        float sum = 0f;
        if (width >= CpuVectorWidth.Vector512)
        {
            sum += SumSweep<FloatLanes512, Vector512<float>, TKind>(y, dy, n, ref j);
        }

        if (width >= CpuVectorWidth.Vector256)
        {
            sum += SumSweep<FloatLanes256, Vector256<float>, TKind>(y, dy, n, ref j);
        }

        if (width >= CpuVectorWidth.Vector128)
        {
            sum += SumSweep<FloatLanes128, Vector128<float>, TKind>(y, dy, n, ref j);
        }

        return sum + SumSweep<FloatLanes1, float, TKind>(y, dy, n, ref j);
    }

    /// <summary>dx = y⊙(dy − s) for the softmax, dx = dy − e^y·s for the log-softmax.</summary>
    private static void BackwardStore<TKind>(float* y, float* dy, float* dx, int n, float s, CpuVectorWidth width)
        where TKind : struct, ISoftmaxKind
    {
        int j = 0;
        if (width >= CpuVectorWidth.Vector512)
        {
            BackwardSweep<FloatLanes512, Vector512<float>, TKind>(y, dy, dx, n, ref j, s);
        }

        if (width >= CpuVectorWidth.Vector256)
        {
            BackwardSweep<FloatLanes256, Vector256<float>, TKind>(y, dy, dx, n, ref j, s);
        }

        if (width >= CpuVectorWidth.Vector128)
        {
            BackwardSweep<FloatLanes128, Vector128<float>, TKind>(y, dy, dx, n, ref j, s);
        }

        BackwardSweep<FloatLanes1, float, TKind>(y, dy, dx, n, ref j, s);
    }

    private static void ScaleInPlace(float* y, int n, float factor, CpuVectorWidth width)
    {
        int j = 0;
        if (width >= CpuVectorWidth.Vector512)
        {
            ScaleSweep<FloatLanes512, Vector512<float>>(y, n, ref j, factor);
        }

        if (width >= CpuVectorWidth.Vector256)
        {
            ScaleSweep<FloatLanes256, Vector256<float>>(y, n, ref j, factor);
        }

        if (width >= CpuVectorWidth.Vector128)
        {
            ScaleSweep<FloatLanes128, Vector128<float>>(y, n, ref j, factor);
        }

        ScaleSweep<FloatLanes1, float>(y, n, ref j, factor);
    }

    // Each sweep takes whole registers of its width from j onward and leaves the rest to the next, narrower one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MaxSweep<TLanes, TVector>(float* x, int n, ref int j, float max)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        if (!TLanes.IsAccelerated || n - j < TLanes.Count)
        {
            return max;
        }

        var acc = TLanes.Load(x + j);
        for (j += TLanes.Count; j <= n - TLanes.Count; j += TLanes.Count)
        {
            acc = TLanes.Max(acc, TLanes.Load(x + j));
        }

        return MathF.Max(max, TLanes.MaxAcross(acc));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ExpSweep<TLanes, TVector>(float* x, float* y, int n, ref int j, float shift, float k)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        if (!TLanes.IsAccelerated || n - j < TLanes.Count)
        {
            return 0f;
        }

        var shiftV = TLanes.Create(shift);
        var kV = TLanes.Create(k);
        var acc = TLanes.Create(0f);
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var e = TLanes.Exp(TLanes.Multiply(TLanes.Subtract(TLanes.Load(x + j), shiftV), kV));
            TLanes.Store(e, y + j);
            acc = TLanes.Add(acc, e);
        }

        return TLanes.SumAcross(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScaleSweep<TLanes, TVector>(float* y, int n, ref int j, float factor)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        if (!TLanes.IsAccelerated)
        {
            return;
        }

        var factorV = TLanes.Create(factor);
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            TLanes.Store(TLanes.Multiply(TLanes.Load(y + j), factorV), y + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SubtractSweep<TLanes, TVector>(float* x, float* y, int n, ref int j, float max, float logSum)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        if (!TLanes.IsAccelerated)
        {
            return;
        }

        var maxV = TLanes.Create(max);
        var logSumV = TLanes.Create(logSum);
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            TLanes.Store(TLanes.Subtract(TLanes.Subtract(TLanes.Load(x + j), maxV), logSumV), y + j);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SumSweep<TLanes, TVector, TKind>(float* y, float* dy, int n, ref int j)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
        where TKind : struct, ISoftmaxKind
    {
        if (!TLanes.IsAccelerated || n - j < TLanes.Count)
        {
            return 0f;
        }

        var acc = TLanes.Create(0f);
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            acc = default(TKind).IsLog ? TLanes.Add(acc, TLanes.Load(dy + j)) : TLanes.MultiplyAdd(TLanes.Load(y + j), TLanes.Load(dy + j), acc);
        }

        return TLanes.SumAcross(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardSweep<TLanes, TVector, TKind>(float* y, float* dy, float* dx, int n, ref int j, float s)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
        where TKind : struct, ISoftmaxKind
    {
        if (!TLanes.IsAccelerated)
        {
            return;
        }

        var sV = TLanes.Create(s);
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var yV = TLanes.Load(y + j);
            var dyV = TLanes.Load(dy + j);
            var d = default(TKind).IsLog
                ? TLanes.Subtract(dyV, TLanes.Multiply(TLanes.Exp(yV), sV))
                : TLanes.Multiply(yV, TLanes.Subtract(dyV, sV));
            TLanes.Store(d, dx + j);
        }
    }

    private static void Backward<TKind>(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int rows, int classes, int threads, CpuVectorWidth width)
        where TKind : struct, ISoftmaxKind
    {
        long length = CheckSizes(rows, classes);
        CheckLength(y.Length, length, nameof(y));
        CheckLength(dy.Length, length, nameof(dy));
        CheckLength(dx.Length, length, nameof(dx));
        if (length == 0)
        {
            return;
        }

        fixed (float* pY = y, pDy = dy, pDx = dx)
        {
            CpuParallel.ForRowBlocks(rows, classes, MinElementsPerThread, threads, new BackwardRows<TKind>(pY, pDy, pDx, classes, width));
        }
    }

    private static long CheckSizes(int rows, int classes)
    {
        ArgumentChecks.ThrowIfNegative(rows);
        ArgumentChecks.ThrowIfNegative(classes);

        return (long)rows * classes;
    }

    private static void CheckLength(int actual, long required, string name)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{name} holds {actual} elements but the softmax needs {required}.", name);
        }
    }

    private readonly struct CrossEntropyRows(float* logits, int* targets, float* losses, float* dLogits, int classes, float gradScale, int? ignoreIndex, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                float* row = logits + (r * classes);
                float* dRow = dLogits + (r * classes);
                int target = targets[r];
                float max = RowMax(row, classes, width);
                if (target == ignoreIndex)
                {
                    // PyTorch's gradient there is 0 − softmax·0: NaN where the sum is (a NaN or +∞ logit), else 0.
                    float zero = ExpShiftedStore(row, dRow, classes, max, 1f, width) * 0f;
                    ScaleInPlace(dRow, classes, zero, width);
                    losses[r] = 0f;
                    continue;
                }

                float targetLogit = row[target];
                float sum = ExpShiftedStore(row, dRow, classes, max, 1f, width);
                ScaleInPlace(dRow, classes, gradScale / sum, width);
                dRow[target] -= gradScale;
                losses[r] = MathF.Log(sum) - (targetLogit - max);
            }
        }
    }

    private readonly struct LogSoftmaxRows(float* x, float* y, int classes, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                float* row = x + (r * classes);
                float* yRow = y + (r * classes);

                // The exponentials go to y only to be summed; y = (x − max) − log Σ then overwrites them, which keeps
                // a probability too small for a float (e^−104) as its exact logarithm. x − max is exact for the
                // logits near the maximum (Sterbenz), so log Σ is subtracted at the magnitude of y, not of max.
                float max = RowMax(row, classes, width);
                float sum = ExpShiftedStore(row, yRow, classes, max, 1f, width);
                SubtractStore(row, yRow, classes, max, MathF.Log(sum), width);
            }
        }
    }

    private readonly struct BackwardRows<TKind>(float* y, float* dy, float* dx, int classes, CpuVectorWidth width) : IParallelRange
        where TKind : struct, ISoftmaxKind
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                long offset = r * classes;
                float s = BackwardSum<TKind>(y + offset, dy + offset, classes, width);
                BackwardStore<TKind>(y + offset, dy + offset, dx + offset, classes, s, width);
            }
        }
    }

    private readonly struct TemperatureRows(float* logits, float* probabilities, int classes, float inverseTemperature, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                float* row = logits + (r * classes);
                float* pRow = probabilities + (r * classes);

                // max(x/T) = max(x)/T since T > 0, so the shift can be taken before the scaling.
                float max = RowMax(row, classes, width);
                float sum = ExpShiftedStore(row, pRow, classes, max, inverseTemperature, width);
                ScaleInPlace(pRow, classes, 1f / sum, width);
            }
        }
    }
}
