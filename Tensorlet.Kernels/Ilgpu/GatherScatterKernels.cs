using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// One-hot(indices)·weightᵀ as a lookup and its backward, for weight [Out, In], indices [N], output [N, Out].
/// One thread per output element, ordered so consecutive threads touch consecutive o: writes (gather) and reads
/// (scatter) of the [N, Out] side are coalesced; the gather's weight reads are strided but the weight is small
/// (In·Out floats) and stays in cache.
/// Ops.GatherColumns and Ops.ScatterAddColumns reject indices outside [0, In) before they queue these; should one get
/// here anyway, it reads as 0 and scatters nowhere, rather than touching memory outside the weight.
/// </summary>
internal static class GatherScatterKernels
{
    /// <summary>
    /// output[e] with e = i·Out + o gets weight[o, indices[i]] + bias[o]; bias is [Out], or empty
    /// (<see cref="ArrayView{T}.Empty"/>) for none, in which case the weight is copied as it is.
    /// </summary>
    public static void Gather(Index1D e, ArrayView<float> weight, ArrayView<int> indices, ArrayView<float> bias, ArrayView<float> output, int outFeatures, int inFeatures)
    {
        int i = e / outFeatures;
        int o = e - (i * outFeatures);
        int c = indices[i];
        float w = (uint)c < (uint)inFeatures ? weight[(o * inFeatures) + c] : 0f;
        output[e] = bias.Length > 0 ? w + bias[o] : w;
    }

    /// <summary>
    /// gradWeight[o, indices[i]] += gradOutput[e] with e = i·Out + o, by atomic add straight into the weight layout.
    /// Lanes of a warp (consecutive o) hit addresses In floats apart, one cache line each, so this is for few rows and
    /// many columns (the n-gram MLP: N = 100, In ≈ 4700), where the transposed route would cost more than it saves.
    /// </summary>
    public static void ScatterAdd(Index1D e, ArrayView<float> gradOutput, ArrayView<int> indices, ArrayView<float> gradWeight, int outFeatures, int inFeatures)
    {
        int i = e / outFeatures;
        int o = e - (i * outFeatures);
        int c = indices[i];
        if ((uint)c < (uint)inFeatures)
        {
            Atomic.Add(ref gradWeight[(o * inFeatures) + c], gradOutput[e]);
        }
    }

    /// <summary>
    /// The first half of the scatter for many rows and few columns (the LSTM input: N = 9900, Out = 1024, In = 32):
    /// transposed[c, o] += gradOutput[e] with c = indices[i], e = i·Out + o, into a zeroed [In, Out] scratch. Consecutive
    /// lanes add to consecutive addresses, so a warp's 32 atomics coalesce into a few L2 transactions instead of 32,
    /// and all 10M threads stay independent. The conflict-free alternative, one thread per o looping over the rows,
    /// has only Out = 1024 threads, each a 9900-long chain of dependent read-modify-writes, and leaves a GPU mostly idle.
    /// The order of the atomic sums is not fixed, so results may differ from run to run in the last bits.
    /// Row i adds nothing when indices[i] = <paramref name="skip"/> (nn.Embedding's padding_idx, when this is the
    /// embedding's backward with the table as the [In, Out] target); −1 skips none.
    /// </summary>
    public static void ScatterAddTransposed(Index1D e, ArrayView<float> gradOutput, ArrayView<int> indices, ArrayView<float> transposed, int outFeatures, int inFeatures, int skip)
    {
        int i = e / outFeatures;
        int o = e - (i * outFeatures);
        int c = indices[i];
        if ((uint)c < (uint)inFeatures && c != skip)
        {
            Atomic.Add(ref transposed[(c * outFeatures) + o], gradOutput[e]);
        }
    }

    /// <summary>The second half: gradWeight[o, c] += transposed[c, o], one thread per weight element e = o·In + c.</summary>
    public static void AddTransposed(Index1D e, ArrayView<float> transposed, ArrayView<float> gradWeight, int outFeatures, int inFeatures)
    {
        int o = e / inFeatures;
        int c = e - (o * inFeatures);
        gradWeight[e] += transposed[(c * outFeatures) + o];
    }
}
