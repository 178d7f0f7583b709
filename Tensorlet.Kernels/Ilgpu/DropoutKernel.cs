using ILGPU;
using Tensorlet.Kernels.Random;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Inverted dropout with the Philox mask every device shares: thread b draws one Philox block, counter (b, stream)
/// under key seed, and applies its four words to elements 4b..4b+3, exactly as the CPU kernel does.
/// </summary>
internal static class DropoutKernel
{
    /// <summary>y[e] = x[e]·(u_e ≥ p ? scale : 0) for the four elements of block b. y may be x.</summary>
    public static void Apply(Index1D b, ArrayView<float> x, ArrayView<float> y, float p, float scale, ulong seed, ulong stream)
    {
        int block = b;
        var bits = Philox.Block(seed, stream, (ulong)block);
        long e = (long)block * 4;
        long n = x.Length;
        y[e] = x[e] * (Philox.ToUniform(bits.X0) >= p ? scale : 0f);
        if (e + 1 < n)
        {
            y[e + 1] = x[e + 1] * (Philox.ToUniform(bits.X1) >= p ? scale : 0f);
        }

        if (e + 2 < n)
        {
            y[e + 2] = x[e + 2] * (Philox.ToUniform(bits.X2) >= p ? scale : 0f);
        }

        if (e + 3 < n)
        {
            y[e + 3] = x[e + 3] * (Philox.ToUniform(bits.X3) >= p ? scale : 0f);
        }
    }
}
