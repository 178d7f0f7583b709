using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Models;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The batch norm kernels on every device against the float64 reference, and the reference backward against central
/// finite differences. The bounds, for channel c of M = N·L values (design.md, Tolerances, says why): mean
/// |Δ| ≤ ulp(mean) + 1e-7 and variance 4e-6 relative (the sums are in double over float32 differences); the running
/// statistics 2e-6 relative + 1e-7; y 2e-6·(1 + |y|) + ulp(mean)·rstd·|w|, because x̂ is taken from the float mean;
/// dx 4e-6·(rstd·|w| + |dx|), rstd·|w| times a difference of O(1) terms; the parameter gradients, M float products
/// summed in double, 1e-6·√M + 1e-6·|ref|. The biased variance where the unbiased one belongs is off by 1/M, 1e-2 at M = 100.
/// </summary>
public sealed class BatchNormTests
{
    // (N, C, L): [N, C] inputs (L = 1) of C below, at and past each register width; [N, C, L] with L = 1 of several
    // channels, a short and a long L; N past one ILGPU block of 64 rows; two values per channel.
    private static readonly (int N, int C, int L)[] Sizes = [(2, 1, 1), (5, 3, 1), (4, 16, 1), (3, 17, 1), (70, 9, 1), (2, 7, 5), (130, 5, 3), (3, 4, 33), (1, 3, 2)];

    // The cpu device also splits rows across threads (more than 16384 elements).
    private static readonly (int N, int C, int L)[] CpuSizes = [(3000, 64, 1), (40, 8, 100), (20000, 3, 1)];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from size in device == "cpu" ? Sizes.Concat(CpuSizes) : Sizes
        from affine in new[] { true, false }
        select new TestCaseData(device, size.N, size.C, size.L, affine).SetArgDisplayNames(device, $"N={size.N}", $"C={size.C}", $"L={size.L}", affine ? "affine" : "no affine");

    [TestCaseSource(nameof(Cases))]
    public void StatisticsAndForwardMatchTheReference(string deviceName, int n, int c, int l, bool affine)
    {
        var device = TestDevices.Get(deviceName);
        var data = new BatchNormData(n, c, l, affine, seed: (n * 1009) + (c * 31) + l);
        var startMean = Uniform(new Random(c), c, 1);
        float[] startVariance = [.. Uniform(new Random(c + 1), c, 0.5).Select(v => v + 1f)];
        using var x = device.FromArray(data.X, data.Shape);
        using var weight = data.Weight is null ? null : device.FromArray(data.Weight, c);
        using var bias = data.Bias is null ? null : device.FromArray(data.Bias, c);
        using var y = device.Zeros(data.Shape);
        using var mean = device.Zeros(c);
        using var variance = device.Zeros(c);
        using var runningMean = device.FromArray(startMean, c);
        using var runningVariance = device.FromArray(startVariance, c);

        Ops.BatchNormStatistics(x, mean, variance, runningMean, runningVariance, 0.1f);
        Ops.BatchNormForward(x, mean, variance, weight, bias, 1e-5f, y);

        data.AssertStatistics(mean.ToArray(), variance.ToArray(), "statistics");
        data.AssertRunning(runningMean.ToArray(), runningVariance.ToArray(), startMean, startVariance, 0.1, "running statistics");
        data.AssertForward(y.ToArray(), mean.ToArray(), variance.ToArray(), "forward");
        Assert.That(x.ToArray(), Is.EqualTo(data.X), "x must not be touched when y is another tensor");

        // Running statistics normalize as given (eval mode), and y may be x.
        Ops.BatchNormForward(x, runningMean, runningVariance, weight, bias, 1e-5f, x);
        data.AssertForward(x.ToArray(), runningMean.ToArray(), runningVariance.ToArray(), "running statistics, y written over x");
    }

    [TestCaseSource(nameof(Cases))]
    public void BackwardMatchesTheReferenceAndAddsToTheParameterGradients(string deviceName, int n, int c, int l, bool affine)
    {
        var device = TestDevices.Get(deviceName);
        var data = new BatchNormData(n, c, l, affine, seed: (n * 1013) + (c * 37) + l);
        var dyData = Uniform(new Random(n + c + l), data.X.Length, 1);
        var startWeight = Uniform(new Random(n), c, 1);
        var startBias = Uniform(new Random(c), c, 1);
        using var x = device.FromArray(data.X, data.Shape);
        using var weight = data.Weight is null ? null : device.FromArray(data.Weight, c);
        using var mean = device.Zeros(c);
        using var variance = device.Zeros(c);
        using var dy = device.FromArray(dyData, data.Shape);
        using var dx = device.Zeros(data.Shape);
        using var dWeight = weight is null ? null : device.FromArray(startWeight, c);
        using var dBias = weight is null ? null : device.FromArray(startBias, c);
        Ops.BatchNormStatistics(x, mean, variance, null, null, 0f);

        foreach (bool batchStatistics in new[] { true, false })
        {
            dWeight?.CopyFrom(startWeight);
            dBias?.CopyFrom(startBias);
            Ops.BatchNormBackward(x, mean, variance, weight, 1e-5f, dy, dx, dWeight, dBias, batchStatistics);

            // The reference from the kernel's own statistics: the backward is a function of them.
            var expectedDx = new double[data.X.Length];
            var expectedDWeight = weight is null ? [] : Widen(startWeight);
            var expectedDBias = weight is null ? [] : Widen(startBias);
            ReferenceBatchNorm.Backward(
                n, c, l, Widen(data.X), Widen(mean.ToArray()), Widen(variance.ToArray()), data.Weight is null ? [] : Widen(data.Weight), 1e-5, Widen(dyData), expectedDx, expectedDWeight, expectedDBias, batchStatistics);
            string what = batchStatistics ? "batch statistics" : "running statistics";
            data.AssertDx(dx.ToArray(), expectedDx, variance.ToArray(), $"{what}: dx");
            if (dWeight is not null)
            {
                AssertParameterGradient(dWeight.ToArray(), expectedDWeight, n * l, $"{what}: dWeight");
                AssertParameterGradient(dBias!.ToArray(), expectedDBias, n * l, $"{what}: dBias");
            }
        }

        // dx over dy, into zeroed gradients: every device reads dy for the sums before dx overwrites it.
        Assert.That(dy.ToArray(), Is.EqualTo(dyData), "dy must not be touched when dx is another tensor");
        var expected = new double[data.X.Length];
        var expectedWeight = new double[c];
        var expectedBias = new double[c];
        ReferenceBatchNorm.Backward(
            n, c, l, Widen(data.X), Widen(mean.ToArray()), Widen(variance.ToArray()), data.Weight is null ? [] : Widen(data.Weight), 1e-5, Widen(dyData), expected, expectedWeight, expectedBias, batchStatistics: true);
        dWeight?.CopyFrom(new float[c]);
        dBias?.CopyFrom(new float[c]);
        Ops.BatchNormBackward(x, mean, variance, weight, 1e-5f, dy, dy, dWeight, dBias, batchStatistics: true);
        data.AssertDx(dy.ToArray(), expected, variance.ToArray(), "dx written over dy");
        if (dWeight is not null)
        {
            AssertParameterGradient(dWeight.ToArray(), expectedWeight, n * l, "dWeight with dx over dy");
            AssertParameterGradient(dBias!.ToArray(), expectedBias, n * l, "dBias with dx over dy");
        }
    }

    /// <summary>
    /// Channels of mean 1000 and standard deviation 0.01, where Σx²/M − mean² in float32 keeps no digit of the variance:
    /// the statistics hold to the usual bounds and y to the float mean's ½ ulp(1000)·rstd.
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ChannelsWithALargeMeanAndATinyVarianceKeepTheirStatistics(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int n = 150, c = 3, l = 2;
        var rng = new Random(17);
        var values = new float[n * c * l];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(1000 + ((i / l % c) * 0.5) + (0.01 * Math.Sqrt(3) * ((rng.NextDouble() * 2) - 1)));
        }

        var data = new BatchNormData(n, c, l, values, weight: null, bias: null);
        using var x = device.FromArray(values, n, c, l);
        using var y = device.Zeros(n, c, l);
        using var mean = device.Zeros(c);
        using var variance = device.Zeros(c);
        Ops.BatchNormStatistics(x, mean, variance, null, null, 0f);
        Ops.BatchNormForward(x, mean, variance, null, null, 1e-5f, y);

        data.AssertStatistics(mean.ToArray(), variance.ToArray(), "large mean");
        data.AssertForward(y.ToArray(), mean.ToArray(), variance.ToArray(), "large mean");
        Assert.That(variance.ToArray(), Is.All.InRange(7e-5f, 1.3e-4f), "the channels' variance is about 1e-4");
    }

    /// <summary>The CPU loops at each register width the machine runs, at row lengths around each width, on two threads.</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuLoopsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);

        foreach (var (c, l) in new[] { (1, 1), (3, 1), (4, 1), (5, 1), (8, 1), (9, 1), (16, 1), (17, 1), (33, 1), (3, 5), (2, 17), (100, 1) })
        {
            const int n = 600;
            var data = new BatchNormData(n, c, l, affine: true, seed: (c * 7) + l);
            var mean = new float[c];
            var variance = new float[c];
            var runningMean = new float[c];
            var runningVariance = Enumerable.Repeat(1f, c).ToArray();
            CpuBatchNorm.Statistics(data.X, mean, variance, runningMean, runningVariance, 0.1f, n, c, l, threads: 2, width);
            data.AssertStatistics(mean, variance, $"{width}, C={c}, L={l}");
            data.AssertRunning(runningMean, runningVariance, new float[c], Enumerable.Repeat(1f, c).ToArray(), 0.1, $"{width}, C={c}, L={l}");
            var y = new float[data.X.Length];
            CpuBatchNorm.Forward(data.X, mean, variance, data.Weight, data.Bias, 1e-5f, y, n, c, l, threads: 2, width);
            data.AssertForward(y, mean, variance, $"{width}, C={c}, L={l}");

            var dy = Uniform(new Random(c), data.X.Length, 1);
            var dx = new float[data.X.Length];
            var dWeight = new float[c];
            var dBias = new float[c];
            CpuBatchNorm.Backward(data.X, mean, variance, data.Weight, 1e-5f, dy, dx, dWeight, dBias, batchStatistics: true, n, c, l, threads: 2, width);
            var expectedDx = new double[data.X.Length];
            var expectedDWeight = new double[c];
            var expectedDBias = new double[c];
            ReferenceBatchNorm.Backward(n, c, l, Widen(data.X), Widen(mean), Widen(variance), Widen(data.Weight!), 1e-5, Widen(dy), expectedDx, expectedDWeight, expectedDBias, batchStatistics: true);
            data.AssertDx(dx, expectedDx, variance, $"dx at {width}, C={c}, L={l}");
            AssertParameterGradient(dWeight, expectedDWeight, n * l, $"dWeight at {width}, C={c}, L={l}");
            AssertParameterGradient(dBias, expectedDBias, n * l, $"dBias at {width}, C={c}, L={l}");
        }
    }

    [TestCase(true, 4, 1, true)]
    [TestCase(false, 4, 1, true)]
    [TestCase(true, 3, 3, true)]
    [TestCase(true, 3, 3, false)]
    [TestCase(false, 2, 2, false)]
    public void ReferenceBackwardMatchesCentralDifferencesOfTheReferenceForward(bool affine, int n, int l, bool batchStatistics)
    {
        // L = Σ u·y with fixed u, so dL/dy = u; x, weight and bias are perturbed in place by the gradient check. With
        // batch statistics the mean and variance are recomputed from x at every evaluation; without, they stay fixed.
        const int c = 3;
        var data = new BatchNormData(n, c, l, affine, seed: 5);
        var u = Widen(Uniform(new Random(6), data.X.Length, 1));
        var fixedMean = Widen(Uniform(new Random(7), c, 1));
        var fixedVariance = Widen([.. Uniform(new Random(8), c, 0.5).Select(v => v + 1f)]);
        var parameters = new Dictionary<string, double[]> { ["x"] = Widen(data.X) };
        if (data.Weight is not null)
        {
            parameters["weight"] = Widen(data.Weight);
            parameters["bias"] = Widen(data.Bias!);
        }

        (double[] Mean, double[] Variance) Statistics()
        {
            if (!batchStatistics)
            {
                return (fixedMean, fixedVariance);
            }

            var mean = new double[c];
            var variance = new double[c];
            ReferenceBatchNorm.Statistics(n, c, l, parameters["x"], mean, variance);
            return (mean, variance);
        }

        double Loss()
        {
            var (mean, variance) = Statistics();
            var y = new double[u.Length];
            ReferenceBatchNorm.Forward(n, c, l, parameters["x"], mean, variance, parameters.GetValueOrDefault("weight", []), parameters.GetValueOrDefault("bias", []), 1e-5, y);
            return y.Zip(u, (a, b) => a * b).Sum();
        }

        var analytic = new Dictionary<string, double[]> { ["x"] = new double[u.Length] };
        if (data.Weight is not null)
        {
            analytic["weight"] = new double[c];
            analytic["bias"] = new double[c];
        }

        var (m, v) = Statistics();
        ReferenceBatchNorm.Backward(
            n, c, l, parameters["x"], m, v, parameters.GetValueOrDefault("weight", []), 1e-5, u, analytic["x"], analytic.GetValueOrDefault("weight", []), analytic.GetValueOrDefault("bias", []), batchStatistics);
        GradientCheck.MaxRelativeError(parameters, analytic, Loss);
    }

    [Test]
    public void BadShapesEpsilonAndBatchesAreRefusedBeforeAnythingIsWritten()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var y = device.Zeros(2, 3);
        using var mean = device.Zeros(3);
        using var variance = device.Zeros(3);
        using var shortWeight = device.Zeros(2);
        using var transposedY = device.Zeros(3, 2);
        using var flat = device.Zeros(6);
        using var oneRow = device.Zeros(1, 3);
        using var emptyInner = device.Zeros(2, 3, 0);
        var error = Assert.Throws<ArgumentException>(() => Ops.BatchNormForward(x, mean, variance, shortWeight, null, 1e-5f, y))!;
        Assert.That(error.Message, Does.Contain("[2]").And.Contain("C = 3"));
        Assert.Throws<ArgumentException>(() => Ops.BatchNormForward(x, mean, variance, null, null, 1e-5f, transposedY));
        Assert.Throws<ArgumentException>(() => Ops.BatchNormForward(flat, mean, variance, null, null, 1e-5f, flat));
        Assert.Throws<ArgumentException>(() => Ops.BatchNormStatistics(emptyInner, mean, variance, null, null, 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.BatchNormForward(x, mean, variance, null, null, -1f, y));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.BatchNormForward(x, mean, variance, null, null, float.NaN, y));
        Assert.Throws<ArgumentException>(() => Ops.BatchNormStatistics(x, mean, variance, mean, null, 0.1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.BatchNormStatistics(x, mean, variance, null, null, 1.5f));
        var single = Assert.Throws<ArgumentException>(() => Ops.BatchNormStatistics(oneRow, mean, variance, y.Reshape(6).Slice(0, 3), y.Reshape(6).Slice(3, 3), 0.1f))!;
        Assert.That(single.Message, Does.Contain("1 value(s) per channel"));
        Assert.Throws<ArgumentException>(() => Ops.BatchNormBackward(x, mean, variance, null, 1e-5f, y, transposedY, null, null, true));
        Assert.That(y.ToArray(), Is.All.Zero);
        Assert.That(mean.ToArray(), Is.All.Zero);
    }

    private static void AssertParameterGradient(float[] actual, double[] expected, int count, string what)
        => AssertWithin(actual, expected, j => (1e-6 * Math.Sqrt(count)) + (1e-6 * Math.Abs(expected[j])), what);

    /// <summary>A batch norm's inputs; by default seeded, each channel uniform in [−2, 2) around its own offset in [−3, 3), weight around 1, bias around 0.</summary>
    private sealed class BatchNormData(int n, int channels, int inner, float[] x, float[]? weight, float[]? bias)
    {
        public BatchNormData(int n, int channels, int inner, bool affine, int seed)
            : this(n, channels, inner, Seeded(n, channels, inner, affine, seed, out var weight, out var bias), weight, bias)
        {
        }

        public int[] Shape => inner == 1 ? [n, channels] : [n, channels, inner];

        public float[] X => x;

        public float[]? Weight => weight;

        public float[]? Bias => bias;

        public void AssertStatistics(float[] mean, float[] variance, string what)
        {
            var (expectedMean, expectedVariance) = Expected();
            AssertWithin(mean, expectedMean, c => Ulp(expectedMean[c]) + 1e-7, $"{what}: mean");
            AssertWithin(variance, expectedVariance, c => 4e-6 * expectedVariance[c], $"{what}: variance");
        }

        public void AssertRunning(float[] runningMean, float[] runningVariance, float[] startMean, float[] startVariance, double factor, string what)
        {
            var (expectedMean, expectedVariance) = Expected();
            double count = (double)n * inner;
            var mean = expectedMean.Select((m, c) => ((1 - factor) * startMean[c]) + (factor * m)).ToArray();
            var variance = expectedVariance.Select((v, c) => ((1 - factor) * startVariance[c]) + (factor * v * count / (count - 1))).ToArray();
            AssertWithin(runningMean, mean, c => (2e-6 * Math.Abs(mean[c])) + 1e-7, $"{what}: running mean");
            AssertWithin(runningVariance, variance, c => (2e-6 * Math.Abs(variance[c])) + 1e-7, $"{what}: running variance");
        }

        /// <summary>y against the reference normalized with <paramref name="mean"/> and <paramref name="variance"/>, the statistics the kernel was given.</summary>
        public void AssertForward(float[] y, float[] mean, float[] variance, string what)
        {
            var expectedY = new double[x.Length];
            ReferenceBatchNorm.Forward(n, channels, inner, Widen(x), Widen(mean), Widen(variance), weight is null ? [] : Widen(weight), bias is null ? [] : Widen(bias), 1e-5, expectedY);
            AssertWithin(
                y,
                expectedY,
                e =>
                {
                    int c = (e / inner) % channels;
                    double rstd = 1 / Math.Sqrt(variance[c] + 1e-5);
                    return (2e-6 * (1 + Math.Abs(expectedY[e]))) + (Ulp(mean[c]) * rstd * (weight is null ? 1 : Math.Abs(weight[c])));
                },
                $"{what}: y");
        }

        public void AssertDx(float[] dx, double[] expected, float[] variance, string what)
            => AssertWithin(
                dx,
                expected,
                e =>
                {
                    int c = (e / inner) % channels;
                    double gain = Math.Abs((weight is null ? 1 : weight[c]) / Math.Sqrt(variance[c] + 1e-5));
                    return 4e-6 * (gain + Math.Abs(expected[e]));
                },
                what);

        private (double[] Mean, double[] Variance) Expected()
        {
            var mean = new double[channels];
            var variance = new double[channels];
            ReferenceBatchNorm.Statistics(n, channels, inner, Widen(x), mean, variance);
            return (mean, variance);
        }

        private static float[] Seeded(int n, int channels, int inner, bool affine, int seed, out float[]? weight, out float[]? bias)
        {
            var rng = new Random(seed);
            var x = Uniform(rng, n * channels * inner, 2);
            var offsets = Uniform(rng, channels, 3);
            for (int e = 0; e < x.Length; e++)
            {
                x[e] += offsets[(e / inner) % channels];
            }

            weight = affine ? [.. Uniform(rng, channels, 0.5).Select(v => v + 1f)] : null;
            bias = affine ? Uniform(rng, channels, 0.5) : null;
            return x;
        }
    }
}
