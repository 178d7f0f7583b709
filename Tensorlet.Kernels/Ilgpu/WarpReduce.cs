using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Reductions across the lanes of one warp by xor-shuffles, for the kernels that give each row a warp: every lane
/// ends with the result, and no shared memory or group barrier is needed.
/// </summary>
internal static class WarpReduce
{
    /// <summary>The largest of the lanes' values (NaN if any is NaN).</summary>
    public static float Max(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            value = XMath.Max(value, Warp.ShuffleXor(value, offset));
        }

        return value;
    }

    /// <summary>The sum of the lanes' values.</summary>
    public static float Sum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            value += Warp.ShuffleXor(value, offset);
        }

        return value;
    }
}
