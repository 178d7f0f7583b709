using NUnit.Framework;

namespace Tensorlet.Tests.Kernels;

/// <summary>Random inputs and float32-against-float64 comparisons shared by the fused-kernel tests.</summary>
internal static class FusedKernelTestData
{
    /// <summary>n values uniform in [−scale, scale).</summary>
    public static float[] Uniform(Random rng, int n, double scale)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = (float)(((rng.NextDouble() * 2) - 1) * scale);
        }

        return values;
    }

    /// <summary>The float32 values widened exactly, so the reference sees the very inputs the kernel saw.</summary>
    public static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);

    /// <summary>Every |actual − expected| ≤ absolute + relative·|expected|; names the first element that is not.</summary>
    public static void AssertClose(float[] actual, double[] expected, string what, double absolute = 2e-6, double relative = 2e-6)
        => AssertWithin(actual, expected, i => absolute + (relative * Math.Abs(expected[i])), what);

    /// <summary>Every |actual[e] − expected[e]| ≤ bound(e); names the first element that is not.</summary>
    public static void AssertWithin(float[] actual, double[] expected, Func<int, double> bound, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int e = 0; e < actual.Length; e++)
        {
            if (!(Math.Abs(actual[e] - expected[e]) <= bound(e)))
            {
                Assert.Fail($"{what}[{e}] = {actual[e]:R}, expected {expected[e]:R} (|Δ| = {Math.Abs(actual[e] - expected[e]):E3} > {bound(e):E3}).");
            }
        }
    }

    /// <summary>The float32 spacing at |v| (2⁻¹⁴ at 1000), at least that of the smallest normal float.</summary>
    public static double Ulp(double v) => Math.ScaleB(1.0, Math.Max(Math.ILogB(Math.Abs(v)), -126) - 23);

    /// <summary>|a − n| / max(|a|, |n|, 1e-8): the gradient-check error.</summary>
    public static double RelativeError(double analytic, double numeric)
        => Math.Abs(analytic - numeric) / Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), 1e-8);
}
