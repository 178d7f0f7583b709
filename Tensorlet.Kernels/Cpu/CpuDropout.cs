using Tensorlet.Kernels.Random;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Inverted dropout on the CPU with the Philox mask shared by every device: element e of the tensor keeps its
/// value when lane e mod 4 of <see cref="Philox.Block"/>(seed, stream, e / 4), as a uniform in [0, 1), is ≥ p.
/// </summary>
internal static unsafe class CpuDropout
{
    /// <summary>y = x·(keep ? scale : 0) with scale = <see cref="KeepScale"/>(p); y may be x. p = 0 copies.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, float p, ulong seed, ulong stream, ParallelOptions parallelism)
    {
        if (x.Length != y.Length)
        {
            throw new ArgumentException("x and y must have the same length.");
        }

        if (p == 0f)
        {
            CpuMemory.Copy(x, y, parallelism);
            return;
        }

        float scale = KeepScale(p);
        long length = x.Length;
        long blocks = (length + 3) / 4;
        fixed (float* xf = x, yf = y)
        {
            float* xp = xf, yp = yf;
            CpuParallel.For(blocks, CpuParallel.MinElementsPerChunk / 4, parallelism, (start, count) =>
            {
                for (long b = start; b < start + count; b++)
                {
                    var bits = Philox.Block(seed, stream, (ulong)b);
                    long e = b * 4;
                    yp[e] = xp[e] * Factor(bits.X0, p, scale);
                    if (e + 1 < length)
                    {
                        yp[e + 1] = xp[e + 1] * Factor(bits.X1, p, scale);
                    }

                    if (e + 2 < length)
                    {
                        yp[e + 2] = xp[e + 2] * Factor(bits.X2, p, scale);
                    }

                    if (e + 3 < length)
                    {
                        yp[e + 3] = xp[e + 3] * Factor(bits.X3, p, scale);
                    }
                }
            });
        }
    }

    /// <summary>1/(1 − p) in float32, the factor on kept elements; every device uses this same value.</summary>
    public static float KeepScale(float p) => 1f / (1f - p);

    private static float Factor(uint bits, float p, float scale) => Philox.ToUniform(bits) >= p ? scale : 0f;
}
