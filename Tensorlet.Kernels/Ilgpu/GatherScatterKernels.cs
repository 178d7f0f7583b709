using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// One-hot(indices)·weightᵀ as a lookup and its backward, for weight [Out, In], indices [N], output [N, Out].
/// One thread per output element, ordered so consecutive threads touch consecutive o: writes (gather) and reads
/// (scatter) of the [N, Out] side are coalesced; the weight side is small (In·Out floats) and stays in cache.
/// Indices outside [0, In) read as 0 and scatter nowhere, rather than touching memory outside the weight.
/// </summary>
internal static class GatherScatterKernels
{
    /// <summary>output[e] with e = i·Out + o gets weight[o, indices[i]].</summary>
    public static void Gather(Index1D e, ArrayView<float> weight, ArrayView<int> indices, ArrayView<float> output, int outFeatures, int inFeatures)
    {
        int i = e / outFeatures;
        int o = e - (i * outFeatures);
        int c = indices[i];
        output[e] = (uint)c < (uint)inFeatures ? weight[(o * inFeatures) + c] : 0f;
    }

    /// <summary>
    /// gradWeight[o, indices[i]] += gradOutput[e] with e = i·Out + o, by atomic add. For the LSTM input (N = 9900,
    /// Out = 1024, In = 32) this launches 10M independent threads whose atomics spread over 32K addresses and resolve
    /// in L2; the conflict-free alternative, one thread per o looping over the 9900 rows, has only 1024 threads, each a
    /// 9900-long chain of dependent read-modify-writes, which leaves most of a GPU idle. The sum order is not fixed,
    /// so results may differ from run to run in the last bits.
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
}
