using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Reductions across the lanes of one warp by xor-shuffles, for the kernels that give each row a warp: every lane
/// ends with the result, and no shared memory or group barrier is needed.
/// </summary>
internal static class WarpReduce
{
    /// <summary>
    /// The largest of the lanes' values. Whether a NaN lane wins depends on the target (PTX's max.f32 returns the other
    /// operand), so a caller must not rely on it: a NaN in a softmax row still reaches its sum, and so its result.
    /// </summary>
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
