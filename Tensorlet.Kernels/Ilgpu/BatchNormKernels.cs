using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Batch normalization over the channels of x [N, C, L] in ILGPU, the arithmetic of <see cref="Cpu.CpuBatchNorm"/> (see
/// there, and <see cref="Cpu.CpuLayerNorm"/> for the shifted two-pass statistics). A per-channel sum is a column sum of
/// x read as N rows of C·L, done as <see cref="BiasKernels"/> does the bias gradient: one thread per (column, block of
/// <see cref="BiasKernels.RowsPerBlock"/> rows) writes double partials, two stages side by side in one view, then one
/// thread per channel adds its columns' partials in a fixed order. The normalization and the input gradient are one
/// thread per element. An empty weight, bias or running-statistics view means none.
/// </summary>
internal static class BatchNormKernels
{
    /// <summary>
    /// partials[t] = Σ d and partials[PartialLength + t] = Σ d² over the rows of block b, with d = x − shift[c] (shift
    /// empty: d = x), for thread t = b·Width + j and column j of channel c = j / Inner.
    /// </summary>
    public static void SumsPartial(Index1D t, ArrayView<float> x, ArrayView<float> shift, ArrayView<double> partials, BatchNormLayout layout)
    {
        int width = layout.Width;
        int b = t / width;
        int j = t - (b * width);
        float s = shift.Length > 0 ? shift[j / layout.Inner] : 0f;
        int start = b * BiasKernels.RowsPerBlock;
        int end = start + BiasKernels.RowsPerBlock < layout.Rows ? start + BiasKernels.RowsPerBlock : layout.Rows;
        double sum = 0, squares = 0;
        for (int i = start; i < end; i++)
        {
            float d = x[((long)i * width) + j] - s;
            sum += d;
            squares += d * d;
        }

        partials[t] = sum;
        partials[layout.PartialLength + t] = squares;
    }

    /// <summary>shift[c] = Σx/M from the first stage's partials of <see cref="SumsPartial"/> without a shift.</summary>
    public static void Shift(Index1D c, ArrayView<double> partials, ArrayView<float> shift, BatchNormLayout layout)
        => shift[c] = (float)(ChannelSum(partials, 0, c, layout) / layout.Count);

    /// <summary>
    /// mean[c] = shift + Σd/M and the biased variance[c] = Σd²/M − (Σd/M)² from <see cref="SumsPartial"/> with the shift;
    /// with running statistics, running = (1 − factor)·running + factor·batch, the variance's unbiased (·M/(M − 1)).
    /// </summary>
    public static void Finish(
        Index1D c,
        ArrayView<double> partials,
        ArrayView<float> shift,
        ArrayView<float> mean,
        ArrayView<float> variance,
        ArrayView<float> runningMean,
        ArrayView<float> runningVariance,
        BatchNormLayout layout,
        float factor)
    {
        double count = layout.Count;
        double correction = ChannelSum(partials, 0, c, layout) / count;
        double m = shift[c] + correction;
        double v = (ChannelSum(partials, layout.PartialLength, c, layout) / count) - (correction * correction);
        // A comparison, not max: a NaN variance stays NaN, as on the CPU.
        v = v < 0 ? 0 : v;
        mean[c] = (float)m;
        variance[c] = (float)v;
        if (runningMean.Length > 0)
        {
            runningMean[c] = (float)(((1 - (double)factor) * runningMean[c]) + (factor * m));
            runningVariance[c] = (float)(((1 - (double)factor) * runningVariance[c]) + (factor * v * count / (count - 1)));
        }
    }

    /// <summary>y[e] = (x[e] − mean[c])/√(variance[c] + ε)·weight[c] + bias[c]; y may alias x.</summary>
    public static void Normalize(
        Index1D e, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> variance, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y, BatchNormLayout layout, float epsilon)
    {
        int c = (int)((e / layout.Inner) % layout.Channels);
        float scale = Rstd(variance[c], epsilon) * (weight.Length > 0 ? weight[c] : 1f);
        y[e] = ((x[e] - mean[c]) * scale) + (bias.Length > 0 ? bias[c] : 0f);
    }

    /// <summary>partials[t] = Σ dy and partials[PartialLength + t] = Σ dy·x̂ over the rows of block b, as <see cref="SumsPartial"/> indexes.</summary>
    public static void GradientSumsPartial(
        Index1D t, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> variance, ArrayView<float> dy, ArrayView<double> partials, BatchNormLayout layout, float epsilon)
    {
        int width = layout.Width;
        int b = t / width;
        int j = t - (b * width);
        int c = j / layout.Inner;
        float m = mean[c];
        float s = Rstd(variance[c], epsilon);
        int start = b * BiasKernels.RowsPerBlock;
        int end = start + BiasKernels.RowsPerBlock < layout.Rows ? start + BiasKernels.RowsPerBlock : layout.Rows;
        double sumDy = 0, sumDyX = 0;
        for (int i = start; i < end; i++)
        {
            long at = ((long)i * width) + j;
            float d = dy[at];
            sumDy += d;
            sumDyX += d * ((x[at] - m) * s);
        }

        partials[t] = sumDy;
        partials[layout.PartialLength + t] = sumDyX;
    }

    /// <summary>sums[c] = Σ dy and sums[C + c] = Σ dy·x̂ from <see cref="GradientSumsPartial"/>, added to dBias[c] and dWeight[c] where given.</summary>
    public static void GradientSumsFinish(Index1D c, ArrayView<double> partials, ArrayView<double> sums, ArrayView<float> dWeight, ArrayView<float> dBias, BatchNormLayout layout)
    {
        double sumDy = ChannelSum(partials, 0, c, layout);
        double sumDyX = ChannelSum(partials, layout.PartialLength, c, layout);
        sums[c] = sumDy;
        sums[layout.Channels + c] = sumDyX;
        if (dBias.Length > 0)
        {
            dBias[c] = (float)(dBias[c] + sumDy);
        }

        if (dWeight.Length > 0)
        {
            dWeight[c] = (float)(dWeight[c] + sumDyX);
        }
    }

    /// <summary>
    /// dx[e] = rstd·w·((dy − Σdy/M) − x̂·Σdy·x̂/M) with the sums of <see cref="GradientSumsFinish"/> when
    /// <paramref name="batchStatistics"/> is not 0, else rstd·w·dy; dx may alias dy.
    /// </summary>
    public static void InputGradient(
        Index1D e,
        ArrayView<float> x,
        ArrayView<float> mean,
        ArrayView<float> variance,
        ArrayView<float> weight,
        ArrayView<float> dy,
        ArrayView<float> dx,
        ArrayView<double> sums,
        BatchNormLayout layout,
        float epsilon,
        int batchStatistics)
    {
        int c = (int)((e / layout.Inner) % layout.Channels);
        float s = Rstd(variance[c], epsilon);
        float gain = s * (weight.Length > 0 ? weight[c] : 1f);
        float centered = dy[e];
        if (batchStatistics != 0)
        {
            float meanG = (float)(sums[c] / layout.Count);
            float meanGx = (float)(sums[layout.Channels + c] / layout.Count);
            centered = (centered - meanG) - (((x[e] - mean[c]) * s) * meanGx);
        }

        dx[e] = gain * centered;
    }

    private static float Rstd(float variance, float epsilon) => 1f / XMath.Sqrt(variance + epsilon);

    // Σ over the blocks in order, then over channel c's Inner columns, of one stage's partials [Blocks, Width].
    private static double ChannelSum(ArrayView<double> partials, int stage, int c, BatchNormLayout layout)
    {
        double sum = 0;
        for (int b = 0; b < layout.Blocks; b++)
        {
            long at = stage + ((long)b * layout.Width) + ((long)c * layout.Inner);
            for (int l = 0; l < layout.Inner; l++)
            {
                sum += partials[at + l];
            }
        }

        return sum;
    }
}
