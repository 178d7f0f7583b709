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
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            double bound = absolute + (relative * Math.Abs(expected[i]));
            if (!(Math.Abs(actual[i] - expected[i]) <= bound))
            {
                Assert.Fail($"{what}[{i}] = {actual[i]:R}, expected {expected[i]:R} (|Δ| = {Math.Abs(actual[i] - expected[i]):E3} > {bound:E3}).");
            }
        }
    }

    /// <summary>|a − n| / max(|a|, |n|, 1e-8): the gradient-check error.</summary>
    public static double RelativeError(double analytic, double numeric)
        => Math.Abs(analytic - numeric) / Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), 1e-8);
}
