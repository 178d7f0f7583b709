using NUnit.Framework;
using Tensorlet.Tests.Infrastructure;

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

    /// <summary>The rows and columns of <see cref="IgnoredRowsOfNonFinites"/>.</summary>
    public const int IgnoredRows = 6, IgnoredClasses = 37;

    /// <summary>Every device with an ignore index outside the classes (PyTorch's −100) and one inside them (2).</summary>
    public static IEnumerable<TestCaseData> DevicesAndIgnoreIndices() =>
        from device in TestDevices.All
        from ignore in new[] { -100, 2 }
        select new TestCaseData(device, ignore).SetArgDisplayNames(device, $"ignoreIndex={ignore}");

    /// <summary>
    /// Values [6, 37] and their targets, rows 0, 2 and 4 ignored and holding −∞ (at the first column), NaN (in a
    /// register) and +∞ (in the tail of V = 37); the other rows finite, targets 5, 36 and 0.
    /// </summary>
    public static (float[] Values, int[] Targets) IgnoredRowsOfNonFinites(int ignore)
    {
        var values = Uniform(new Random(ignore + 1000), IgnoredRows * IgnoredClasses, 6);
        values[0] = float.NegativeInfinity;
        values[(2 * IgnoredClasses) + 3] = float.NaN;
        values[(4 * IgnoredClasses) + 36] = float.PositiveInfinity;
        return (values, [ignore, 5, ignore, 36, ignore, 0]);
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
