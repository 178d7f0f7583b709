using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Inverted dropout with the Philox mask every device shares: thread b draws Philox block b (counter (b, stream),
/// key seed) and applies word w to element <see cref="Philox.ElementOf"/>(b, w), exactly as the CPU kernel does.
/// Threads b..b+7 write 8 consecutive elements per word, so stores coalesce.
/// </summary>
internal static class DropoutKernel
{
    /// <summary>y[e] = x[e]·(u_e ≥ p ? scale : 0) for the four elements of block b. y may be x. Launch 8·⌈n/32⌉ threads.</summary>
    public static void Apply(Index1D b, ArrayView<float> x, ArrayView<float> y, float p, float scale, ulong seed, ulong stream)
    {
        int block = b;
        var bits = Philox.Block(seed, stream, (ulong)block);
        long n = x.Length;
        long e0 = (long)Philox.ElementOf((ulong)block, 0);
        if (e0 < n)
        {
            y[e0] = x[e0] * DropoutMask.Factor(bits.X0, p, scale);
        }

        if (e0 + 8 < n)
        {
            y[e0 + 8] = x[e0 + 8] * DropoutMask.Factor(bits.X1, p, scale);
        }

        if (e0 + 16 < n)
        {
            y[e0 + 16] = x[e0 + 16] * DropoutMask.Factor(bits.X2, p, scale);
        }

        if (e0 + 24 < n)
        {
            y[e0 + 24] = x[e0 + 24] * DropoutMask.Factor(bits.X3, p, scale);
        }
    }
}
