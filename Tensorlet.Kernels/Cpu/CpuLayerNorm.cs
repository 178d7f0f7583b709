using System.Buffers;
using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Layer normalization over each row of x [rows, D] in SIMD C# (torch.nn.LayerNorm over the last dimension): the
/// forward writes y = (x − mean)·rstd·weight + bias and each row's mean and rstd = 1/√(var + ε), var the biased
/// variance; the backward writes dx and adds the weight and bias gradients. An empty weight or bias span means none
/// (the factor 1, the term 0), and an empty gradient span skips that gradient. Each pass over a row is an
/// <see cref="IFloatLanesSweep"/> run widest first by <see cref="FloatLanesLoop"/>; rows are split across threads in
/// contiguous blocks, so for a given thread count the results are deterministic.
/// <para>
/// The statistics are a float32 two-pass, corrected (Chan, Golub and LeVeque): the first pass gives m̂ = Σx/D; the
/// second sums d = x − m̂ and d², and mean = m̂ + Σd/D, var = Σd²/D − (Σd/D)². Subtracting m̂ before squaring keeps
/// what the one-pass Σx²/D − mean² loses to cancellation when the mean is large beside the spread (mean 1e4 and
/// standard deviation 1e-2 need twelve significant digits of Σx², float has seven), and the correction term removes
/// the rounding of m̂ itself. Welford's one-pass update is as sound but divides per element and leaves one state per
/// lane to merge; a row of a few thousand floats is still in L1 or L2 for the second pass, which is a plain SIMD sum.
/// </para>
/// </summary>
internal static unsafe class CpuLayerNorm
{
    // A handful of operations per element over three passes: below this many elements per thread, one thread is faster.
    private const long MinElementsPerThread = 16384;

    /// <summary>The forward pass. y may be the same memory as x (each row's statistics are taken before it is written).</summary>
    /// <param name="x">[rows, columns].</param>
    /// <param name="weight">[columns], or empty for none.</param>
    /// <param name="bias">[columns], or empty for none.</param>
    /// <param name="y">[rows, columns] out.</param>
    /// <param name="mean">[rows] out: each row's mean.</param>
    /// <param name="rstd">[rows] out: each row's 1/√(var + ε).</param>
    /// <param name="rows">The rows.</param>
    /// <param name="columns">D, the elements normalized together; at least 1 when there are rows.</param>
    /// <param name="epsilon">ε, added to the variance.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest register to use.</param>
    public static void Forward(
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias,
        Span<float> y,
        Span<float> mean,
        Span<float> rstd,
        int rows,
        int columns,
        float epsilon,
        int threads,
        CpuVectorWidth width)
    {
        CheckSizes(x.Length, y.Length, rows, columns, weight.Length, bias.Length);
        CheckLength(mean.Length, rows, nameof(mean));
        CheckLength(rstd.Length, rows, nameof(rstd));
        if (rows == 0)
        {
            return;
        }

        fixed (float* xp = x, wp = weight, bp = bias, yp = y, mp = mean, sp = rstd)
        {
            CpuParallel.ForRowBlocks(rows, columns, MinElementsPerThread, threads, new ForwardRows(xp, wp, bp, yp, mp, sp, columns, epsilon, width));
        }
    }

    /// <summary>
    /// The backward pass from the forward's mean and rstd: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·weight and
    /// x̂ = (x − mean)·rstd; dWeight += Σ_rows dy·x̂ and dBias += Σ_rows dy, each summed in double over a block of rows per
    /// thread, then the blocks in order. dx may be the same memory as dy.
    /// </summary>
    /// <param name="x">[rows, columns]: the forward's input.</param>
    /// <param name="mean">[rows]: the forward's mean.</param>
    /// <param name="rstd">[rows]: the forward's rstd.</param>
    /// <param name="weight">[columns], or empty for none.</param>
    /// <param name="dy">[rows, columns]: dL/dy.</param>
    /// <param name="dx">[rows, columns] out: dL/dx.</param>
    /// <param name="dWeight">[columns], added to; or empty to skip.</param>
    /// <param name="dBias">[columns], added to; or empty to skip.</param>
    /// <param name="rows">The rows.</param>
    /// <param name="columns">D.</param>
    /// <param name="threads">The most threads to use; 1 runs on the calling thread.</param>
    /// <param name="width">The widest register to use.</param>
    public static void Backward(
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> mean,
        ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> weight,
        ReadOnlySpan<float> dy,
        Span<float> dx,
        Span<float> dWeight,
        Span<float> dBias,
        int rows,
        int columns,
        int threads,
        CpuVectorWidth width)
    {
        CheckSizes(x.Length, dx.Length, rows, columns, weight.Length, 0);
        CheckLength(dy.Length, (long)rows * columns, nameof(dy));
        CheckLength(mean.Length, rows, nameof(mean));
        CheckLength(rstd.Length, rows, nameof(rstd));
        CheckOptional(dWeight.Length, columns, nameof(dWeight));
        CheckOptional(dBias.Length, columns, nameof(dBias));
        if (rows == 0)
        {
            return;
        }

        int blocks = (int)Math.Max(1, Math.Min(Math.Min(CpuParallel.Threads(threads), rows), (long)rows * columns / MinElementsPerThread));
        int partialLength = blocks * columns;
        bool weights = !dWeight.IsEmpty, biases = !dBias.IsEmpty;
        double[] partials = ArrayPool<double>.Shared.Rent(2 * partialLength);
        float[] products = ArrayPool<float>.Shared.Rent(partialLength);
        try
        {
            Array.Clear(partials, 0, 2 * partialLength);
            fixed (float* xp = x, mp = mean, sp = rstd, wp = weight, dyp = dy, dxp = dx, pp = products)
            fixed (double* partialsp = partials)
            {
                var body = new BackwardBlock(
                    new BackwardRows(xp, mp, sp, wp, dyp, dxp, columns, width),
                    rows,
                    blocks,
                    weights ? partialsp : null,
                    biases ? partialsp + partialLength : null,
                    pp);
                if (blocks == 1)
                {
                    body.Run(0);
                }
                else
                {
                    CpuParallel.ForItems(blocks, blocks, body);
                }
            }

            if (weights)
            {
                AddBlocks(partials.AsSpan(0, partialLength), dWeight, columns);
            }

            if (biases)
            {
                AddBlocks(partials.AsSpan(partialLength, partialLength), dBias, columns);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partials);
            ArrayPool<float>.Shared.Return(products);
        }
    }

    // result[j] += Σ_block partials[block, j], the blocks in order, in double.
    private static void AddBlocks(ReadOnlySpan<double> partials, Span<float> result, int columns)
    {
        for (int j = 0; j < columns; j++)
        {
            double sum = result[j];
            for (int block = j; block < partials.Length; block += columns)
            {
                sum += partials[block];
            }

            result[j] = (float)sum;
        }
    }

    private static void CheckSizes(int xLength, int outLength, int rows, int columns, int weightLength, int biasLength)
    {
        ArgumentChecks.ThrowIfNegative(rows);
        ArgumentChecks.ThrowIfNegative(columns);
        if (rows > 0 && columns == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), "A layer norm needs at least one element per row.");
        }

        long length = (long)rows * columns;
        CheckLength(xLength, length, "x");
        CheckLength(outLength, length, "the output");
        CheckOptional(weightLength, columns, "weight");
        CheckOptional(biasLength, columns, "bias");
    }

    private static void CheckLength(int actual, long required, string name)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{name} holds {actual} elements but the layer norm needs {required}.", name);
        }
    }

    private static void CheckOptional(int actual, int columns, string name)
    {
        if (actual != 0 && actual != columns)
        {
            throw new ArgumentException($"{name} holds {actual} elements; a layer norm over {columns} needs {columns}, or none.", name);
        }
    }

    /// <summary>Each row's statistics (see the class remarks), then y.</summary>
    private readonly struct ForwardRows(float* x, float* weight, float* bias, float* y, float* mean, float* rstd, int columns, float epsilon, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            float* sums = stackalloc float[2];
            for (long r = start; r < start + count; r++)
            {
                float* row = x + (r * columns);
                sums[0] = 0f;
                FloatLanesLoop.Run(new SumSweep(row, sums), columns, width);
                float shift = sums[0] / columns;
                sums[0] = 0f;
                sums[1] = 0f;
                FloatLanesLoop.Run(new CenteredSumsSweep(row, shift, sums), columns, width);
                float correction = sums[0] / columns;
                float m = shift + correction;
                float s = 1f / MathF.Sqrt(MathF.Max((sums[1] / columns) - (correction * correction), 0f) + epsilon);
                FloatLanesLoop.Run(new NormalizeSweep(row, weight, bias, y + (r * columns), m, s), columns, width);
                mean[r] = m;
                rstd[r] = s;
            }
        }
    }

    /// <summary>One row's backward: its two sums, dL/dy into the bias partials, dx (and dy·x̂), dy·x̂ into the weight partials.</summary>
    private readonly struct BackwardRows(float* x, float* mean, float* rstd, float* weight, float* dy, float* dx, int columns, CpuVectorWidth width)
    {
        public int Columns => columns;

        public void Run(long r, double* weightPartial, double* biasPartial, float* product)
        {
            long offset = r * columns;
            float* sums = stackalloc float[2];
            sums[0] = 0f;
            sums[1] = 0f;
            FloatLanesLoop.Run(new GradientSumsSweep(x + offset, dy + offset, weight, mean[r], rstd[r], sums), columns, width);
            if (biasPartial is not null)
            {
                // Before dx is written: dx may be dy.
                CpuReduction.AccumulateRow(new ReadOnlySpan<float>(dy + offset, columns), new Span<double>(biasPartial, columns), width);
            }

            var sweep = new InputGradientSweep(x + offset, dy + offset, weight, dx + offset, weightPartial is null ? null : product, mean[r], rstd[r], sums[0] / columns, sums[1] / columns);
            FloatLanesLoop.Run(sweep, columns, width);
            if (weightPartial is not null)
            {
                CpuReduction.AccumulateRow(new ReadOnlySpan<float>(product, columns), new Span<double>(weightPartial, columns), width);
            }
        }
    }

    /// <summary>Block i of the rows, its gradient sums into row i of the partials, with row i of the products as scratch.</summary>
    private readonly struct BackwardBlock(BackwardRows rows, int count, int blocks, double* weightPartials, double* biasPartials, float* products) : IParallelItems
    {
        public void Run(int item)
        {
            long start = (long)count * item / blocks;
            long end = (long)count * (item + 1) / blocks;
            int columns = rows.Columns;
            double* w = weightPartials is null ? null : weightPartials + ((long)item * columns);
            double* b = biasPartials is null ? null : biasPartials + ((long)item * columns);
            for (long r = start; r < end; r++)
            {
                rows.Run(r, w, b, products + ((long)item * columns));
            }
        }
    }

    /// <summary>sum[0] += Σ x.</summary>
    private readonly struct SumSweep(float* x, float* sum) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Sum<TLanes, TVector>(x, sum, start, n);
    }

    /// <summary>sums[0] += Σ (x − shift), sums[1] += Σ (x − shift)².</summary>
    private readonly struct CenteredSumsSweep(float* x, float shift, float* sums) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => CenteredSums<TLanes, TVector>(x, shift, sums, start, n);
    }

    /// <summary>y = (x − mean)·rstd·weight + bias.</summary>
    private readonly struct NormalizeSweep(float* x, float* weight, float* bias, float* y, float mean, float rstd) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => Normalize<TLanes, TVector>(x, weight, bias, y, mean, rstd, start, n);
    }

    /// <summary>sums[0] += Σ g, sums[1] += Σ g·x̂, with g = dy·weight.</summary>
    private readonly struct GradientSumsSweep(float* x, float* dy, float* weight, float mean, float rstd, float* sums) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => GradientSums<TLanes, TVector>(x, dy, weight, mean, rstd, sums, start, n);
    }

    /// <summary>dx = rstd·(g − meanG − x̂·meanGx); product = dy·x̂ where product is not null.</summary>
    private readonly struct InputGradientSweep(float* x, float* dy, float* weight, float* dx, float* product, float mean, float rstd, float meanG, float meanGx) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => InputGradient<TLanes, TVector>(x, dy, weight, dx, product, mean, rstd, meanG, meanGx, start, n);
    }

    // The loops take their pointers as parameters, not struct fields (see IFloatLanesSweep).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Sum<TLanes, TVector>(float* x, float* sum, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var acc = TLanes.Create(0f);
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            acc = TLanes.Add(acc, TLanes.Load(x + j));
        }

        *sum += TLanes.SumAcross(acc);
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int CenteredSums<TLanes, TVector>(float* x, float shift, float* sums, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var shiftV = TLanes.Create(shift);
        var sum = TLanes.Create(0f);
        var squares = TLanes.Create(0f);
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var d = TLanes.Subtract(TLanes.Load(x + j), shiftV);
            sum = TLanes.Add(sum, d);
            squares = TLanes.MultiplyAdd(d, d, squares);
        }

        sums[0] += TLanes.SumAcross(sum);
        sums[1] += TLanes.SumAcross(squares);
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Normalize<TLanes, TVector>(float* x, float* weight, float* bias, float* y, float mean, float rstd, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var meanV = TLanes.Create(mean);
        var rstdV = TLanes.Create(rstd);
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var v = TLanes.Multiply(TLanes.Subtract(TLanes.Load(x + j), meanV), rstdV);
            if (weight is not null)
            {
                v = TLanes.Multiply(v, TLanes.Load(weight + j));
            }

            if (bias is not null)
            {
                v = TLanes.Add(v, TLanes.Load(bias + j));
            }

            TLanes.Store(v, y + j);
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GradientSums<TLanes, TVector>(float* x, float* dy, float* weight, float mean, float rstd, float* sums, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var meanV = TLanes.Create(mean);
        var rstdV = TLanes.Create(rstd);
        var sumG = TLanes.Create(0f);
        var sumGx = TLanes.Create(0f);
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var normalized = TLanes.Multiply(TLanes.Subtract(TLanes.Load(x + j), meanV), rstdV);
            var g = weight is null ? TLanes.Load(dy + j) : TLanes.Multiply(TLanes.Load(dy + j), TLanes.Load(weight + j));
            sumG = TLanes.Add(sumG, g);
            sumGx = TLanes.MultiplyAdd(g, normalized, sumGx);
        }

        sums[0] += TLanes.SumAcross(sumG);
        sums[1] += TLanes.SumAcross(sumGx);
        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InputGradient<TLanes, TVector>(float* x, float* dy, float* weight, float* dx, float* product, float mean, float rstd, float meanG, float meanGx, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var meanV = TLanes.Create(mean);
        var rstdV = TLanes.Create(rstd);
        var meanGV = TLanes.Create(meanG);
        var meanGxV = TLanes.Create(meanGx);
        int j = start;
        for (; j <= n - TLanes.Count; j += TLanes.Count)
        {
            var normalized = TLanes.Multiply(TLanes.Subtract(TLanes.Load(x + j), meanV), rstdV);
            var d = TLanes.Load(dy + j);
            var g = weight is null ? d : TLanes.Multiply(d, TLanes.Load(weight + j));
            if (product is not null)
            {
                TLanes.Store(TLanes.Multiply(d, normalized), product + j);
            }

            TLanes.Store(TLanes.Multiply(rstdV, TLanes.Subtract(TLanes.Subtract(g, meanGV), TLanes.Multiply(normalized, meanGxV))), dx + j);
        }

        return j;
    }
}
