namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 one-hot products that GatherColumns and ScatterAddColumns are checked against, written as the dense products they replace.</summary>
internal static class ReferenceGatherScatter
{
    /// <summary>
    /// output = one-hot(indices)·weightᵀ + bias: output[i, o] = Σ_c [c = indices[i]]·weight[o, c] + bias[o], where an
    /// empty bias is none.
    /// </summary>
    public static void GatherColumns(ReadOnlySpan<double> weight, int outFeatures, int inFeatures, ReadOnlySpan<int> indices, Span<double> output, ReadOnlySpan<double> bias = default)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = 0;
                for (int c = 0; c < inFeatures; c++)
                {
                    sum += (c == indices[i] ? 1.0 : 0.0) * weight[(o * inFeatures) + c];
                }

                output[(i * outFeatures) + o] = sum + (bias.IsEmpty ? 0 : bias[o]);
            }
        }
    }

    /// <summary>gradWeight += gradOutputᵀ·one-hot(indices): gradWeight[o, c] += Σ_i gradOutput[i, o]·[c = indices[i]].</summary>
    public static void ScatterAddColumns(ReadOnlySpan<double> gradOutput, ReadOnlySpan<int> indices, Span<double> gradWeight, int outFeatures, int inFeatures)
    {
        for (int o = 0; o < outFeatures; o++)
        {
            for (int c = 0; c < inFeatures; c++)
            {
                double sum = 0;
                for (int i = 0; i < indices.Length; i++)
                {
                    sum += gradOutput[(i * outFeatures) + o] * (c == indices[i] ? 1.0 : 0.0);
                }

                gradWeight[(o * inFeatures) + c] += sum;
            }
        }
    }
}
