using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The ILGPU kernels behind the tensor arithmetic a model author uses between layers (add, multiply, a per-row
/// scale, row argmax), the embedding gather, and the SGD step. One thread per element, or per row for the argmax.
/// </summary>
internal static class RowKernels
{
    /// <summary>y[i] = a[i] + alpha·b[i]; y may be a or b.</summary>
    public static void AddScaled(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, float alpha) => y[i] = a[i] + (alpha * b[i]);

    /// <summary>y[i] = a[i]·b[i]; y may be a or b.</summary>
    public static void Multiply(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] * b[i];

    /// <summary>x[e] *= scale[e / columns].</summary>
    public static void ScaleRows(Index1D e, ArrayView<float> x, ArrayView<float> scale, int columns) => x[e] *= scale[e / columns];

    /// <summary>result[r] = the first column of row r's maximum (a NaN counts as the maximum, as in torch.argmax).</summary>
    public static void Argmax(Index1D r, ArrayView<float> x, ArrayView<int> result, int columns)
    {
        long start = (long)(int)r * columns;
        int best = 0;
        float max = x[start];
        for (int j = 1; j < columns && !float.IsNaN(max); j++)
        {
            float v = x[start + j];
            if (v > max || float.IsNaN(v))
            {
                max = v;
                best = j;
            }
        }

        result[r] = best;
    }

    /// <summary>
    /// output[e] with e = i·Columns + j gets table[indices[i], j] (nn.Embedding). An index outside [0, rows) reads as 0
    /// (Ops.GatherRows rejects one before it queues this).
    /// </summary>
    public static void GatherRows(Index1D e, ArrayView<float> table, ArrayView<int> indices, ArrayView<float> output, int rows, int columns)
    {
        int i = e / columns;
        int j = e - (i * columns);
        int row = indices[i];
        output[e] = (uint)row < (uint)rows ? table[((long)row * columns) + j] : 0f;
    }

    /// <summary>
    /// output[i] = source[positions[i]]: token ids reordered (a batch-first sequence into the time-major order a recurrent
    /// module runs in). A position outside the source reads as 0 (Ops.GatherIndices rejects one before it queues this).
    /// </summary>
    public static void GatherIndices(Index1D i, ArrayView<int> source, ArrayView<int> positions, ArrayView<int> output)
    {
        int p = positions[i];
        output[i] = p >= 0 && p < source.Length ? source[p] : 0;
    }

    /// <summary>One torch.optim.SGD step; the same arithmetic as <see cref="Cpu.CpuSgd"/>.</summary>
    public static void SgdStep(Index1D i, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> buffer, SgdCoefficients k)
    {
        float p = parameters[i];
        float g = gradients[i];
        if (k.WeightDecay != 0f)
        {
            g += k.WeightDecay * p;
        }

        if (k.Momentum != 0f)
        {
            float b = k.FirstStep != 0 ? g : (k.Momentum * buffer[i]) + (k.OneMinusDampening * g);
            buffer[i] = b;
            g = k.Nesterov != 0 ? g + (k.Momentum * b) : b;
        }

        parameters[i] = p - (k.LearningRate * g);
    }
}
