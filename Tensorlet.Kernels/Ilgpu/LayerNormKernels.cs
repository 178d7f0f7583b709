using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Layer normalization over each row of x [rows, D] in ILGPU, the arithmetic of <see cref="Cpu.CpuLayerNorm"/> (see
/// there for the float32 two-pass statistics and why). The forward and the input gradient give each row one warp, as
/// <see cref="SoftmaxKernels"/> does: lanes stride over the row by the warp size and combine their sums with
/// xor-shuffles, each lane reads and writes only its own columns (so y may alias x and dx may alias dy), and there is
/// no shared memory or group barrier. Launch them with a group of whole warps and ⌈rows / warps-per-group⌉ groups.
/// The weight gradient is a column sum, done as <see cref="BiasKernels"/> does the bias gradient: double partials over
/// blocks of <see cref="BiasKernels.RowsPerBlock"/> rows, then <see cref="BiasKernels.SumColumnsFinish"/>. An empty
/// weight or bias view means none (the factor 1, the term 0).
/// </summary>
internal static class LayerNormKernels
{
    /// <summary>y = (x − mean)·rstd·weight + bias per row; each row's mean and rstd = 1/√(var + ε) are written by lane 0.</summary>
    public static void Forward(
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd, int rows, int columns, float epsilon)
    {
        int warpSize = Warp.WarpSize;
        int row = (Grid.IdxX * (Group.DimX / warpSize)) + Warp.WarpIdx;
        if (row >= rows)
        {
            return;
        }

        int lane = Warp.LaneIdx;
        long start = (long)row * columns;
        float sum = 0f;
        for (int k = lane; k < columns; k += warpSize)
        {
            sum += x[start + k];
        }

        float shift = WarpReduce.Sum(sum) / columns;
        float centered = 0f;
        float squares = 0f;
        for (int k = lane; k < columns; k += warpSize)
        {
            float d = x[start + k] - shift;
            centered += d;
            squares += d * d;
        }

        float correction = WarpReduce.Sum(centered) / columns;
        float m = shift + correction;
        // A rounding below zero is clamped by a comparison, which keeps a NaN variance NaN as the CPU's does (PTX max.f32
        // would return the 0).
        float variance = (WarpReduce.Sum(squares) / columns) - (correction * correction);
        float s = 1f / XMath.Sqrt((variance < 0f ? 0f : variance) + epsilon);
        for (int k = lane; k < columns; k += warpSize)
        {
            float v = (x[start + k] - m) * s;
            v = weight.Length > 0 ? v * weight[k] : v;
            y[start + k] = bias.Length > 0 ? v + bias[k] : v;
        }

        if (lane == 0)
        {
            mean[row] = m;
            rstd[row] = s;
        }
    }

    /// <summary>dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per row, with g = dy·weight and x̂ = (x − mean)·rstd; dx may alias dy.</summary>
    public static void InputGradient(
        ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> weight, ArrayView<float> dy, ArrayView<float> dx, int rows, int columns)
    {
        int warpSize = Warp.WarpSize;
        int row = (Grid.IdxX * (Group.DimX / warpSize)) + Warp.WarpIdx;
        if (row >= rows)
        {
            return;
        }

        int lane = Warp.LaneIdx;
        long start = (long)row * columns;
        float m = mean[row];
        float s = rstd[row];
        float sumG = 0f;
        float sumGx = 0f;
        for (int k = lane; k < columns; k += warpSize)
        {
            float g = weight.Length > 0 ? dy[start + k] * weight[k] : dy[start + k];
            sumG += g;
            sumGx += g * ((x[start + k] - m) * s);
        }

        float meanG = WarpReduce.Sum(sumG) / columns;
        float meanGx = WarpReduce.Sum(sumGx) / columns;
        for (int k = lane; k < columns; k += warpSize)
        {
            float g = weight.Length > 0 ? dy[start + k] * weight[k] : dy[start + k];
            dx[start + k] = s * ((g - meanG) - (((x[start + k] - m) * s) * meanGx));
        }
    }

    /// <summary>
    /// The weight gradient's first stage: partials[b, j] = Σ dy[i, j]·x̂[i, j] over rows i in block b, each product in
    /// float and the sum in double. The thread index is b·columns + j, so a warp reads a contiguous row segment.
    /// </summary>
    public static void WeightGradientPartial(
        Index1D t, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> dy, ArrayView<double> partials, int rows, int columns)
    {
        int b = t / columns;
        int j = t - (b * columns);
        int start = b * BiasKernels.RowsPerBlock;
        int end = start + BiasKernels.RowsPerBlock < rows ? start + BiasKernels.RowsPerBlock : rows;
        double sum = 0;
        for (int i = start; i < end; i++)
        {
            long e = ((long)i * columns) + j;
            sum += dy[e] * ((x[e] - mean[i]) * rstd[i]);
        }

        partials[t] = sum;
    }
}
