using System.Buffers;
using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Batch normalization over the channels of x [N, C, L] (L = 1 for [N, C]) in SIMD C#, as torch.nn.BatchNorm1d: channel
/// c's M = N·L values are x[n, c, l] over every n and l. Every pass reads x as N rows of C·L and works on whole rows with
/// an <see cref="IFloatLanesSweep"/>, run widest first by <see cref="FloatLanesLoop"/>; the per-channel values it needs
/// (mean, 1/√(var + ε), weight, ...) are first spread over a row of C·L, so a channel of one value per row (L = 1) is as
/// vectorized as one of many. Per-channel sums are column sums of those rows in double, one partial row per block of rows
/// (one block per thread), then the blocks in order, so for a given thread count the results are deterministic. An
/// empty weight or bias span means none (the factor 1, the term 0); an empty gradient span skips that gradient.
/// <para>
/// The statistics are the shifted two-pass of <see cref="CpuLayerNorm"/> (see there why): the first pass gives
/// m̂ = Σx/M, the second sums d = x − m̂ and d², and mean = m̂ + Σd/M, var = Σd²/M − (Σd/M)² (biased).
/// </para>
/// </summary>
internal static unsafe class CpuBatchNorm
{
    // A handful of operations per element over two or three passes: below this many elements per thread, one thread is faster.
    private const long MinElementsPerThread = 16384;

    /// <summary>
    /// Each channel's mean and biased variance of x, and, with running statistics given, their update as PyTorch's:
    /// running = (1 − factor)·running + factor·batch, the running variance from the unbiased variance var·M/(M − 1).
    /// </summary>
    /// <param name="x">[n, channels, inner].</param>
    /// <param name="mean">[channels] out.</param>
    /// <param name="variance">[channels] out: the biased variance.</param>
    /// <param name="runningMean">[channels], updated; or empty for none (then <paramref name="runningVariance"/> is empty too).</param>
    /// <param name="runningVariance">[channels], updated; or empty for none.</param>
    /// <param name="factor">The momentum of the update, in [0, 1].</param>
    /// <param name="n">N.</param>
    /// <param name="channels">C.</param>
    /// <param name="inner">L, at least 1.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest register to use.</param>
    public static void Statistics(
        ReadOnlySpan<float> x,
        Span<float> mean,
        Span<float> variance,
        Span<float> runningMean,
        Span<float> runningVariance,
        float factor,
        int n,
        int channels,
        int inner,
        int threads,
        CpuVectorWidth width)
    {
        CheckSizes(x.Length, x.Length, n, channels, inner);
        CheckLength(mean.Length, channels, nameof(mean));
        CheckLength(variance.Length, channels, nameof(variance));
        CheckOptional(runningMean.Length, channels, nameof(runningMean));
        CheckOptional(runningVariance.Length, runningMean.IsEmpty ? 0 : channels, nameof(runningVariance));
        if (n == 0 || channels == 0)
        {
            return;
        }

        int rowLength = channels * inner;
        int blocks = Blocks(n, rowLength, threads);
        int partialLength = blocks * rowLength;
        double count = (double)n * inner;
        double[] partials = ArrayPool<double>.Shared.Rent(2 * partialLength);
        float[] rows = ArrayPool<float>.Shared.Rent((2 * partialLength) + rowLength);
        try
        {
            fixed (float* xp = x, rp = rows)
            fixed (double* pp = partials)
            {
                float* shift = rp + (2 * partialLength);
                Array.Clear(partials, 0, partialLength);
                RunBlocks(blocks, new StatisticsBlock(xp, null, pp, null, null, n, rowLength, blocks, width));
                for (int c = 0; c < channels; c++)
                {
                    Fill(shift + ((long)c * inner), inner, (float)(ChannelSum(pp, c, inner, rowLength, blocks) / count));
                }

                Array.Clear(partials, 0, 2 * partialLength);
                RunBlocks(blocks, new StatisticsBlock(xp, shift, pp, pp + partialLength, rp, n, rowLength, blocks, width));
                for (int c = 0; c < channels; c++)
                {
                    double correction = ChannelSum(pp, c, inner, rowLength, blocks) / count;
                    double squares = ChannelSum(pp + partialLength, c, inner, rowLength, blocks) / count;
                    double m = shift[(long)c * inner] + correction;
                    double v = squares - (correction * correction);
                    v = v < 0 ? 0 : v; // a rounding below zero; a NaN stays NaN
                    mean[c] = (float)m;
                    variance[c] = (float)v;
                    if (!runningMean.IsEmpty)
                    {
                        runningMean[c] = (float)(((1 - (double)factor) * runningMean[c]) + (factor * m));
                        runningVariance[c] = (float)(((1 - (double)factor) * runningVariance[c]) + (factor * v * count / (count - 1)));
                    }
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
            ArrayPool<float>.Shared.Return(rows);
        }
    }

    /// <summary>y = (x − mean)·rstd·weight + bias per channel, rstd = 1/√(variance + ε). y may be the same memory as x.</summary>
    /// <param name="x">[n, channels, inner].</param>
    /// <param name="mean">[channels]: the batch's mean, or a running one.</param>
    /// <param name="variance">[channels]: the batch's biased variance, or a running one.</param>
    /// <param name="weight">[channels], or empty for none.</param>
    /// <param name="bias">[channels], or empty for none.</param>
    /// <param name="epsilon">ε, added to the variance.</param>
    /// <param name="y">[n, channels, inner] out.</param>
    /// <param name="n">N.</param>
    /// <param name="channels">C.</param>
    /// <param name="inner">L, at least 1.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest register to use.</param>
    public static void Forward(
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> mean,
        ReadOnlySpan<float> variance,
        ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias,
        float epsilon,
        Span<float> y,
        int n,
        int channels,
        int inner,
        int threads,
        CpuVectorWidth width)
    {
        CheckSizes(x.Length, y.Length, n, channels, inner);
        CheckLength(mean.Length, channels, nameof(mean));
        CheckLength(variance.Length, channels, nameof(variance));
        CheckOptional(weight.Length, channels, nameof(weight));
        CheckOptional(bias.Length, channels, nameof(bias));
        if (n == 0 || channels == 0)
        {
            return;
        }

        int rowLength = channels * inner;
        float[] rows = ArrayPool<float>.Shared.Rent(3 * rowLength);
        try
        {
            fixed (float* xp = x, yp = y, rp = rows)
            {
                float* meanRow = rp, scaleRow = rp + rowLength, biasRow = rp + (2 * rowLength);
                for (int c = 0; c < channels; c++)
                {
                    long at = (long)c * inner;
                    Fill(meanRow + at, inner, mean[c]);
                    Fill(scaleRow + at, inner, Rstd(variance[c], epsilon) * (weight.IsEmpty ? 1f : weight[c]));
                    Fill(biasRow + at, inner, bias.IsEmpty ? 0f : bias[c]);
                }

                CpuParallel.ForRowBlocks(n, rowLength, MinElementsPerThread, threads, new NormalizeRows(xp, meanRow, scaleRow, biasRow, yp, rowLength, width));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rows);
        }
    }

    /// <summary>
    /// The backward of <see cref="Forward"/>, with x̂ = (x − mean)·rstd and g = dy·weight: adds Σ dy·x̂ to dWeight and
    /// Σ dy to dBias per channel (summed in double), and writes dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) when the mean and
    /// variance were the batch's own (<paramref name="batchStatistics"/>), else dx = rstd·g. dx may be the same memory as dy.
    /// </summary>
    /// <param name="x">[n, channels, inner]: the forward's input.</param>
    /// <param name="mean">[channels]: the forward's mean.</param>
    /// <param name="variance">[channels]: the forward's variance.</param>
    /// <param name="weight">[channels], or empty for none.</param>
    /// <param name="epsilon">ε, as in the forward.</param>
    /// <param name="dy">[n, channels, inner]: dL/dy.</param>
    /// <param name="dx">[n, channels, inner] out: dL/dx.</param>
    /// <param name="dWeight">[channels], added to; or empty to skip.</param>
    /// <param name="dBias">[channels], added to; or empty to skip.</param>
    /// <param name="batchStatistics">Whether the mean and variance were the batch's (training), not constants.</param>
    /// <param name="n">N.</param>
    /// <param name="channels">C.</param>
    /// <param name="inner">L, at least 1.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest register to use.</param>
    public static void Backward(
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> mean,
        ReadOnlySpan<float> variance,
        ReadOnlySpan<float> weight,
        float epsilon,
        ReadOnlySpan<float> dy,
        Span<float> dx,
        Span<float> dWeight,
        Span<float> dBias,
        bool batchStatistics,
        int n,
        int channels,
        int inner,
        int threads,
        CpuVectorWidth width)
    {
        CheckSizes(x.Length, dx.Length, n, channels, inner);
        CheckLength(dy.Length, (long)n * channels * inner, nameof(dy));
        CheckLength(mean.Length, channels, nameof(mean));
        CheckLength(variance.Length, channels, nameof(variance));
        CheckOptional(weight.Length, channels, nameof(weight));
        CheckOptional(dWeight.Length, channels, nameof(dWeight));
        CheckOptional(dBias.Length, channels, nameof(dBias));
        if (n == 0 || channels == 0)
        {
            return;
        }

        int rowLength = channels * inner;
        int blocks = Blocks(n, rowLength, threads);
        int partialLength = blocks * rowLength;
        double count = (double)n * inner;
        bool sums = batchStatistics || !dWeight.IsEmpty || !dBias.IsEmpty;
        double[] partials = ArrayPool<double>.Shared.Rent(sums ? 2 * partialLength : 0);
        float[] rows = ArrayPool<float>.Shared.Rent((5 * rowLength) + (sums ? partialLength : 0));
        try
        {
            fixed (float* xp = x, dyp = dy, dxp = dx, rp = rows)
            fixed (double* pp = partials)
            {
                float* meanRow = rp, rstdRow = rp + rowLength, gainRow = rp + (2 * rowLength), meanGRow = rp + (3 * rowLength), meanGxRow = rp + (4 * rowLength);
                for (int c = 0; c < channels; c++)
                {
                    long at = (long)c * inner;
                    float rstd = Rstd(variance[c], epsilon);
                    Fill(meanRow + at, inner, mean[c]);
                    Fill(rstdRow + at, inner, rstd);
                    Fill(gainRow + at, inner, rstd * (weight.IsEmpty ? 1f : weight[c]));
                }

                if (sums)
                {
                    // Before dx is written: dx may be dy.
                    Array.Clear(partials, 0, 2 * partialLength);
                    RunBlocks(blocks, new GradientSumsBlock(xp, dyp, meanRow, rstdRow, pp, pp + partialLength, rp + (5 * rowLength), n, rowLength, blocks, width));
                }

                for (int c = 0; c < channels; c++)
                {
                    double sumDy = sums ? ChannelSum(pp, c, inner, rowLength, blocks) : 0;
                    double sumDyX = sums ? ChannelSum(pp + partialLength, c, inner, rowLength, blocks) : 0;
                    if (!dBias.IsEmpty)
                    {
                        dBias[c] = (float)(dBias[c] + sumDy);
                    }

                    if (!dWeight.IsEmpty)
                    {
                        dWeight[c] = (float)(dWeight[c] + sumDyX);
                    }

                    // g = dy·w, so mean(g) = w·Σdy/M and mean(g·x̂) = w·Σdy·x̂/M; the gain rstd·w multiplies them back in.
                    long at = (long)c * inner;
                    Fill(meanGRow + at, inner, batchStatistics ? (float)(sumDy / count) : 0f);
                    Fill(meanGxRow + at, inner, batchStatistics ? (float)(sumDyX / count) : 0f);
                }

                CpuParallel.ForRowBlocks(n, rowLength, MinElementsPerThread, threads, new InputGradientRows(xp, dyp, dxp, meanRow, rstdRow, gainRow, meanGRow, meanGxRow, rowLength, width));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
            ArrayPool<float>.Shared.Return(rows);
        }
    }

    private static float Rstd(float variance, float epsilon) => 1f / MathF.Sqrt(variance + epsilon);

    private static int Blocks(int n, int rowLength, int threads)
        => (int)Math.Max(1, Math.Min(Math.Min(CpuParallel.Threads(threads), n), (long)n * rowLength / MinElementsPerThread));

    private static void RunBlocks<TBody>(int blocks, TBody body)
        where TBody : struct, IParallelItems
    {
        if (blocks == 1)
        {
            body.Run(0);
        }
        else
        {
            CpuParallel.ForItems(blocks, blocks, body);
        }
    }

    // Σ over the blocks in order, then over channel c's inner positions, of the partial rows [blocks, rowLength].
    private static double ChannelSum(double* partials, int c, int inner, int rowLength, int blocks)
    {
        double sum = 0;
        for (int b = 0; b < blocks; b++)
        {
            double* at = partials + ((long)b * rowLength) + ((long)c * inner);
            for (int l = 0; l < inner; l++)
            {
                sum += at[l];
            }
        }

        return sum;
    }

    private static void Fill(float* row, int length, float value) => new Span<float>(row, length).Fill(value);

    private static void CheckSizes(int xLength, int outLength, int n, int channels, int inner)
    {
        ArgumentChecks.ThrowIfNegative(n);
        ArgumentChecks.ThrowIfNegative(channels);
        ArgumentChecks.ThrowIfNegativeOrZero(inner);
        long length = (long)n * channels * inner;
        CheckLength(xLength, length, "x");
        CheckLength(outLength, length, "the output");
    }

    private static void CheckLength(int actual, long required, string name)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{name} holds {actual} elements but the batch norm needs {required}.", name);
        }
    }

    private static void CheckOptional(int actual, int channels, string name)
    {
        if (actual != 0 && actual != channels)
        {
            throw new ArgumentException($"{name} holds {actual} elements; a batch norm over {channels} channels needs {channels}, or none.", name);
        }
    }

    /// <summary>
    /// Block i of the rows: without a shift, Σx into row i of the first partials; with one, Σ(x − shift) and
    /// Σ(x − shift)² into row i of both, through two scratch rows of block i.
    /// </summary>
    private readonly struct StatisticsBlock(float* x, float* shift, double* sums, double* squares, float* scratch, int n, int rowLength, int blocks, CpuVectorWidth width) : IParallelItems
    {
        public void Run(int item)
        {
            long start = (long)n * item / blocks;
            long end = (long)n * (item + 1) / blocks;
            var sum = new Span<double>(sums + ((long)item * rowLength), rowLength);
            for (long r = start; r < end; r++)
            {
                float* row = x + (r * rowLength);
                if (shift is null)
                {
                    CpuReduction.AccumulateRow(new ReadOnlySpan<float>(row, rowLength), sum, width);
                    continue;
                }

                float* d = scratch + (2L * item * rowLength);
                float* d2 = d + rowLength;
                FloatLanesLoop.Run(new CenteredSweep(row, shift, d, d2), rowLength, width);
                CpuReduction.AccumulateRow(new ReadOnlySpan<float>(d, rowLength), sum, width);
                CpuReduction.AccumulateRow(new ReadOnlySpan<float>(d2, rowLength), new Span<double>(squares + ((long)item * rowLength), rowLength), width);
            }
        }
    }

    /// <summary>Block i of the rows: Σ dy and Σ dy·x̂ into row i of the partials, with row i of the scratch for dy·x̂.</summary>
    private readonly struct GradientSumsBlock(float* x, float* dy, float* meanRow, float* rstdRow, double* sumDy, double* sumDyX, float* scratch, int n, int rowLength, int blocks, CpuVectorWidth width) : IParallelItems
    {
        public void Run(int item)
        {
            long start = (long)n * item / blocks;
            long end = (long)n * (item + 1) / blocks;
            float* product = scratch + ((long)item * rowLength);
            var dySums = new Span<double>(sumDy + ((long)item * rowLength), rowLength);
            var productSums = new Span<double>(sumDyX + ((long)item * rowLength), rowLength);
            for (long r = start; r < end; r++)
            {
                long offset = r * rowLength;
                FloatLanesLoop.Run(new ProductSweep(x + offset, dy + offset, meanRow, rstdRow, product), rowLength, width);
                CpuReduction.AccumulateRow(new ReadOnlySpan<float>(dy + offset, rowLength), dySums, width);
                CpuReduction.AccumulateRow(new ReadOnlySpan<float>(product, rowLength), productSums, width);
            }
        }
    }

    /// <summary>y = (x − mean)·scale + bias over whole rows.</summary>
    private readonly struct NormalizeRows(float* x, float* meanRow, float* scaleRow, float* biasRow, float* y, int rowLength, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                long offset = r * rowLength;
                FloatLanesLoop.Run(new NormalizeSweep(x + offset, meanRow, scaleRow, biasRow, y + offset), rowLength, width);
            }
        }
    }

    /// <summary>dx = gain·((dy − meanG) − x̂·meanGx) over whole rows.</summary>
    private readonly struct InputGradientRows(float* x, float* dy, float* dx, float* meanRow, float* rstdRow, float* gainRow, float* meanGRow, float* meanGxRow, int rowLength, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long r = start; r < start + count; r++)
            {
                long offset = r * rowLength;
                FloatLanesLoop.Run(new InputGradientSweep(x + offset, dy + offset, dx + offset, meanRow, rstdRow, gainRow, meanGRow, meanGxRow), rowLength, width);
            }
        }
    }

    /// <summary>d = x − shift, d2 = d².</summary>
    private readonly struct CenteredSweep(float* x, float* shift, float* d, float* d2) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Centered<TLanes, TVector>(x, shift, d, d2, start, n);
    }

    /// <summary>product = dy·x̂, x̂ = (x − mean)·rstd.</summary>
    private readonly struct ProductSweep(float* x, float* dy, float* meanRow, float* rstdRow, float* product) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Product<TLanes, TVector>(x, dy, meanRow, rstdRow, product, start, n);
    }

    /// <summary>y = (x − mean)·scale + bias.</summary>
    private readonly struct NormalizeSweep(float* x, float* meanRow, float* scaleRow, float* biasRow, float* y) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Normalize<TLanes, TVector>(x, meanRow, scaleRow, biasRow, y, start, n);
    }

    /// <summary>dx = gain·((dy − meanG) − x̂·meanGx).</summary>
    private readonly struct InputGradientSweep(float* x, float* dy, float* dx, float* meanRow, float* rstdRow, float* gainRow, float* meanGRow, float* meanGxRow) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => InputGradient<TLanes, TVector>(x, dy, dx, meanRow, rstdRow, gainRow, meanGRow, meanGxRow, start, n);
    }

    // The loops take their pointers as parameters, not struct fields (see IFloatLanesSweep).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Centered<TLanes, TVector>(float* x, float* shift, float* d, float* d2, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var v = TLanes.Subtract(TLanes.Load(x + j), TLanes.Load(shift + j));
            TLanes.Store(v, d + j);
            TLanes.Store(TLanes.Multiply(v, v), d2 + j);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Product<TLanes, TVector>(float* x, float* dy, float* meanRow, float* rstdRow, float* product, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var normalized = TLanes.Multiply(TLanes.Subtract(TLanes.Load(x + j), TLanes.Load(meanRow + j)), TLanes.Load(rstdRow + j));
            TLanes.Store(TLanes.Multiply(TLanes.Load(dy + j), normalized), product + j);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Normalize<TLanes, TVector>(float* x, float* meanRow, float* scaleRow, float* biasRow, float* y, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var centered = TLanes.Subtract(TLanes.Load(x + j), TLanes.Load(meanRow + j));
            TLanes.Store(TLanes.MultiplyAdd(centered, TLanes.Load(scaleRow + j), TLanes.Load(biasRow + j)), y + j);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InputGradient<TLanes, TVector>(float* x, float* dy, float* dx, float* meanRow, float* rstdRow, float* gainRow, float* meanGRow, float* meanGxRow, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var normalized = TLanes.Multiply(TLanes.Subtract(TLanes.Load(x + j), TLanes.Load(meanRow + j)), TLanes.Load(rstdRow + j));
            var centered = TLanes.Subtract(TLanes.Subtract(TLanes.Load(dy + j), TLanes.Load(meanGRow + j)), TLanes.Multiply(normalized, TLanes.Load(meanGxRow + j)));
            TLanes.Store(TLanes.Multiply(TLanes.Load(gainRow + j), centered), dx + j);
        }

        return j;
    }
}
