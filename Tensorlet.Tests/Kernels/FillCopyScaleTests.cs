using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class FillCopyScaleTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void FillSetsEveryElementAndNothingElse(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            using var whole = device.FromArray(Uniform(n + 2, n), n + 2);
            using var inner = whole.Slice(1, n);
            Ops.Fill(inner, 2.5f);
            var result = whole.ToArray();
            Assert.That(result[1..^1], Is.All.EqualTo(2.5f), $"n={n}");
            Assert.That(new[] { result[0], result[^1] }, Is.EqualTo(new[] { Uniform(n + 2, n)[0], Uniform(n + 2, n)[^1] }), $"n={n}: Fill wrote outside its view");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void CopyIsExact(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            var data = Uniform(n, 10 + n);
            using var source = device.FromArray(data, n);
            using var destination = device.Zeros(n);
            Ops.Copy(source, destination);
            Assert.That(destination.ToArray(), Is.EqualTo(data), $"n={n}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ScaleMatchesTheReference(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            var data = Uniform(n, 20 + n, -5f, 5f);
            using var x = device.FromArray(data, n);
            Ops.Scale(x, -0.37f);

            // One float multiply: correctly rounded, so within half an ulp (6e-8 relative) of the exact product.
            AssertClose(x.ToArray(), Array.ConvertAll(data, v => v * (double)-0.37f), 0, 6e-8, $"Scale n={n}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SumOfSquaresMatchesTheReference(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            var data = Uniform(n, 30 + n, -3f, 3f);
            using var x = device.FromArray(data, n);
            double expected = ReferenceBias.SumOfSquares(ToDouble(data));

            // Squares of floats are exact in double; only the order of n double additions differs: ≤ n·2^-53 relative.
            Assert.That(Ops.SumOfSquares(x), Is.EqualTo(expected).Within(n * 1.2e-16 * expected), $"n={n}");
        }
    }

    /// <summary>The CPU reductions at each register width the machine runs (Vector128 is ARM64's fast path, checked here on x86).</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuReductionsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);

        foreach (int n in Lengths("cpu"))
        {
            var data = Uniform(n, 40 + n, -3f, 3f);
            double expected = ReferenceBias.SumOfSquares(ToDouble(data));
            Assert.That(CpuReduction.SumOfSquares(data, width), Is.EqualTo(expected).Within(n * 1.2e-16 * expected), $"{width} Σx² n={n}");

            // Two rows into one running sum: each float is exact in double, so only the two additions per column round
            // (each by at most 2^-53 of a partial sum below 7).
            var sums = Array.ConvertAll(Uniform(n, 50 + n), v => (double)v);
            var expectedSums = (double[])sums.Clone();
            ReferenceBias.SumColumns([.. ToDouble(data), .. ToDouble(data)], expectedSums, accumulate: true);
            CpuReduction.AccumulateRow(data, sums, width);
            CpuReduction.AccumulateRow(data, sums, width);
            Assert.That(sums, Is.EqualTo(expectedSums).Within(2e-15), $"{width} row sums n={n}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SumOfSquaresOfAnEmptyTensorIsZero(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var x = device.Zeros(0);
        Assert.That(Ops.SumOfSquares(x), Is.Zero);
    }
}
