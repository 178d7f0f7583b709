using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The gather of positions (output[r, p] = input[r, map[p]], one map for every row) and its backward. The forward is one
/// thread per output element, so consecutive threads write consecutive addresses. The backward is one thread per element
/// of the input gradient, which sums the output positions that copy it, listed by the map's inverse
/// (<see cref="PositionGatherInverse"/>) in increasing order of p: no two threads write the same element, so there are no
/// atomics, and the floats are those the CPU kernel gives. Ops.GatherPositions and Ops.GatherPositionsBackward reject a
/// map or an inverse outside its range before they queue these; should one get here anyway, a map value reads as 0, and an
/// inverse's run is cut to the gradient's row and a copy outside it adds nothing, rather than touching memory outside them.
/// </summary>
internal static class PositionGatherKernels
{
    /// <summary>output[e] for e = r·P + p: input[r·L + map[p]].</summary>
    public static void Forward(Index1D e, ArrayView<float> input, ArrayView<int> map, ArrayView<float> output, int length)
    {
        int paddedLength = (int)map.Length;
        int row = e / paddedLength;
        int source = map[e - (row * paddedLength)];
        output[e] = (uint)source < (uint)length ? input[((long)row * length) + source] : 0f;
    }

    /// <summary>gradInput[e] for e = r·L + l: the sum, in order of i, of gradOutput[r·P + copies[i]] for i in [starts[l], starts[l + 1]).</summary>
    public static void Backward(Index1D e, ArrayView<float> gradOutput, ArrayView<int> starts, ArrayView<int> copies, ArrayView<float> gradInput, int length)
    {
        int paddedLength = (int)copies.Length;
        int row = e / length;
        int l = e - (row * length);
        long at = (long)row * paddedLength;
        float sum = 0f;
        for (int i = XMath.Max(starts[l], 0), end = XMath.Min(starts[l + 1], paddedLength); i < end; i++)
        {
            int copy = copies[i];
            if ((uint)copy < (uint)paddedLength)
            {
                sum += gradOutput[at + copy];
            }
        }

        gradInput[e] = sum;
    }
}
