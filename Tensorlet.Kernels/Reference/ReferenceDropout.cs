
namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 inverted dropout, with the mask drawn element by element from <see cref="Philox.Uniform"/>.</summary>
internal static class ReferenceDropout
{
    /// <summary>Whether element <paramref name="index"/> is kept: u ≥ p, u uniform in [0, 1) from (seed, stream, index).</summary>
    public static bool Keeps(float p, ulong seed, ulong stream, long index) => Philox.Uniform(seed, stream, (ulong)index) >= p;

    /// <summary>y[e] = x[e]/(1 − p) where kept, else 0.</summary>
    public static void Apply(ReadOnlySpan<double> x, Span<double> y, float p, ulong seed, ulong stream)
    {
        for (int e = 0; e < x.Length; e++)
        {
            y[e] = Keeps(p, seed, stream, e) ? x[e] / (1 - (double)p) : 0;
        }
    }
}
