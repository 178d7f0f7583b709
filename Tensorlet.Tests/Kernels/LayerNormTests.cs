using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Models;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The layer norm kernels on every device against the float64 reference, and the reference backward against central
/// finite differences. The bounds, for an element of row r (design.md, Tolerances, says why each is what it is):
/// mean |Δ| ≤ ulp(mean) + 1e-7; rstd 4e-6 relative; y 2e-6·(1 + |y|) + ulp(mean)·rstd·|w|, because x̂ is taken from
/// the float mean, within half an ulp of the row's (x itself is known to no finer than that); dx 2e-6·(rstd + |dx|),
/// because dx is rstd times a difference of O(1) terms; the parameter gradients, N float products summed in double,
/// 1e-6·√N + 1e-6·|ref|. The biased variance where the unbiased one belongs is off by 1/(2D), 5e-4 at D = 1025.
/// </summary>
public sealed class LayerNormTests
{
    // (N, D): D = 1; D below, at and just past each register width (4, 8, 16); one row of 1000; many short rows.
    private static readonly (int Rows, int Columns)[] Sizes = [(1, 1), (50, 1), (3, 7), (5, 16), (4, 17), (2, 33), (130, 9), (7, 127), (1, 1000), (700, 5)];

    // The cpu device also splits rows across threads (more than 16384 elements) and runs a row past 1024.
    private static readonly (int Rows, int Columns)[] CpuSizes = [(3000, 64), (64, 1025), (20000, 3)];

    /// <summary>Which affine parameters the layer has: nn.LayerNorm's default, bias=False, elementwise_affine=False.</summary>
    public enum Affine
    {
        WeightAndBias,
        WeightOnly,
        None,
    }

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from size in device == "cpu" ? Sizes.Concat(CpuSizes) : Sizes
        from affine in Enum.GetValues<Affine>()
        select new TestCaseData(device, size.Rows, size.Columns, affine).SetArgDisplayNames(device, $"N={size.Rows}", $"D={size.Columns}", affine.ToString());

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesTheReference(string deviceName, int rows, int columns, Affine affine)
    {
        var device = TestDevices.Get(deviceName);
        var data = new LayerNormData(rows, columns, affine, seed: (rows * 1009) + columns);
        using var x = device.FromArray(data.X, rows, columns);
        using var weight = data.Weight is null ? null : device.FromArray(data.Weight, columns);
        using var bias = data.Bias is null ? null : device.FromArray(data.Bias, columns);
        using var y = device.Zeros(rows, columns);
        using var mean = device.Zeros(rows);
        using var rstd = device.Zeros(rows);

        Ops.LayerNormForward(x, weight, bias, 1e-5f, y, mean, rstd);

        data.AssertForward(y.ToArray(), mean.ToArray(), rstd.ToArray(), "forward");
        Assert.That(x.ToArray(), Is.EqualTo(data.X), "x must not be touched when y is another tensor");

        Ops.LayerNormForward(x, weight, bias, 1e-5f, x, mean, rstd);
        data.AssertForward(x.ToArray(), mean.ToArray(), rstd.ToArray(), "y written over x");
    }

    [TestCaseSource(nameof(Cases))]
    public void BackwardMatchesTheReferenceAndAddsToTheParameterGradients(string deviceName, int rows, int columns, Affine affine)
    {
        var device = TestDevices.Get(deviceName);
        var data = new LayerNormData(rows, columns, affine, seed: (rows * 1013) + columns);
        var dyData = Uniform(new Random(rows + columns), rows * columns, 1);
        var startWeight = Uniform(new Random(rows), columns, 1);
        var startBias = Uniform(new Random(columns), columns, 1);
        using var x = device.FromArray(data.X, rows, columns);
        using var weight = data.Weight is null ? null : device.FromArray(data.Weight, columns);
        using var bias = data.Bias is null ? null : device.FromArray(data.Bias, columns);
        using var y = device.Zeros(rows, columns);
        using var mean = device.Zeros(rows);
        using var rstd = device.Zeros(rows);
        using var dy = device.FromArray(dyData, rows, columns);
        using var dx = device.Zeros(rows, columns);
        using var dWeight = weight is null ? null : device.FromArray(startWeight, columns);
        using var dBias = bias is null ? null : device.FromArray(startBias, columns);
        Ops.LayerNormForward(x, weight, bias, 1e-5f, y, mean, rstd);

        Ops.LayerNormBackward(x, mean, rstd, weight, dy, dx, dWeight, dBias);

        // The reference from the kernel's own statistics: the backward is a function of them.
        var expectedDx = new double[rows * columns];
        var expectedDWeight = weight is null ? [] : Widen(startWeight);
        var expectedDBias = bias is null ? [] : Widen(startBias);
        ReferenceLayerNorm.Backward(
            rows, columns, Widen(data.X), Widen(mean.ToArray()), Widen(rstd.ToArray()), data.Weight is null ? [] : Widen(data.Weight), Widen(dyData), expectedDx, expectedDWeight, expectedDBias);
        AssertDx(dx.ToArray(), expectedDx, rstd.ToArray(), "dx");
        if (dWeight is not null)
        {
            AssertParameterGradient(dWeight.ToArray(), expectedDWeight, rows, "dWeight");
        }

        if (dBias is not null)
        {
            AssertParameterGradient(dBias.ToArray(), expectedDBias, rows, "dBias");
        }

        // dx over dy, into zeroed gradients: every device reads dy for them before dx overwrites it.
        Assert.That(dy.ToArray(), Is.EqualTo(dyData), "dy must not be touched when dx is another tensor");
        dWeight?.CopyFrom(new float[columns]);
        dBias?.CopyFrom(new float[columns]);
        Ops.LayerNormBackward(x, mean, rstd, weight, dy, dy, dWeight, dBias);
        AssertDx(dy.ToArray(), expectedDx, rstd.ToArray(), "dx written over dy");
        if (dWeight is not null)
        {
            AssertParameterGradient(dWeight.ToArray(), [.. expectedDWeight.Zip(startWeight, (sum, start) => sum - start)], rows, "dWeight with dx over dy");
        }

        if (dBias is not null)
        {
            AssertParameterGradient(dBias.ToArray(), [.. expectedDBias.Zip(startBias, (sum, start) => sum - start)], rows, "dBias with dx over dy");
        }
    }

    /// <summary>
    /// Rows of mean 1000 and standard deviation 0.01 (1e-10 of the mean squared), where Σx²/D − mean² in float32 keeps
    /// no digit of the variance: the statistics hold to the usual bounds, y to the float mean's ½ ulp(1000)·rstd ≈ 3e-3
    /// (x̂ is taken from the mean the backward gets), and the backward from them as closely as anywhere.
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void RowsWithALargeMeanAndATinyVarianceKeepTheirStatistics(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int rows = 3, columns = 203;
        var rng = new Random(17);
        var values = new float[rows * columns];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(1000 + ((i / columns) * 0.5) + (0.01 * Math.Sqrt(3) * ((rng.NextDouble() * 2) - 1)));
        }

        var data = new LayerNormData(rows, columns, values, weight: null, bias: null);
        using var x = device.FromArray(values, rows, columns);
        using var y = device.Zeros(rows, columns);
        using var mean = device.Zeros(rows);
        using var rstd = device.Zeros(rows);
        Ops.LayerNormForward(x, null, null, 1e-5f, y, mean, rstd);

        data.AssertForward(y.ToArray(), mean.ToArray(), rstd.ToArray(), "large mean");
        Assert.That(rstd.ToArray(), Is.All.InRange(70f, 130f), "the rows' standard deviation is about 0.01");

        var dyData = Uniform(rng, values.Length, 1);
        using var dy = device.FromArray(dyData, rows, columns);
        using var dx = device.Zeros(rows, columns);
        Ops.LayerNormBackward(x, mean, rstd, null, dy, dx, null, null);
        var expectedDx = new double[values.Length];
        ReferenceLayerNorm.Backward(rows, columns, Widen(values), Widen(mean.ToArray()), Widen(rstd.ToArray()), [], Widen(dyData), expectedDx, [], []);
        AssertDx(dx.ToArray(), expectedDx, rstd.ToArray(), "large mean dx");
    }

    /// <summary>The CPU loops at each register width the machine runs, at lengths around each width, on two threads.</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuLoopsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);

        foreach (int columns in new[] { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100 })
        {
            const int rows = 600;
            var data = new LayerNormData(rows, columns, Affine.WeightAndBias, seed: columns);
            var y = new float[rows * columns];
            var mean = new float[rows];
            var rstd = new float[rows];
            CpuLayerNorm.Forward(data.X, data.Weight, data.Bias, y, mean, rstd, rows, columns, 1e-5f, threads: 2, width);
            data.AssertForward(y, mean, rstd, $"{width}, D={columns}");

            var dy = Uniform(new Random(columns), rows * columns, 1);
            var dx = new float[rows * columns];
            var dWeight = new float[columns];
            var dBias = new float[columns];
            CpuLayerNorm.Backward(data.X, mean, rstd, data.Weight, dy, dx, dWeight, dBias, rows, columns, threads: 2, width);
            var expectedDx = new double[rows * columns];
            var expectedDWeight = new double[columns];
            var expectedDBias = new double[columns];
            ReferenceLayerNorm.Backward(rows, columns, Widen(data.X), Widen(mean), Widen(rstd), Widen(data.Weight!), Widen(dy), expectedDx, expectedDWeight, expectedDBias);
            AssertDx(dx, expectedDx, rstd, $"dx at {width}, D={columns}");
            AssertParameterGradient(dWeight, expectedDWeight, rows, $"dWeight at {width}, D={columns}");
            AssertParameterGradient(dBias, expectedDBias, rows, $"dBias at {width}, D={columns}");
        }
    }

    [TestCase(Affine.WeightAndBias, 7)]
    [TestCase(Affine.None, 7)]
    [TestCase(Affine.WeightAndBias, 1)]
    [TestCase(Affine.WeightAndBias, 2)]
    public void ReferenceBackwardMatchesCentralDifferencesOfTheReferenceForward(Affine affine, int columns)
    {
        // L = Σ u·y with fixed u, so dL/dy = u; x, weight and bias are perturbed in place by the gradient check.
        const int rows = 3;
        var data = new LayerNormData(rows, columns, affine, seed: 5);
        var u = Widen(Uniform(new Random(6), rows * columns, 1));
        var parameters = new Dictionary<string, double[]> { ["x"] = Widen(data.X) };
        if (data.Weight is not null)
        {
            parameters["weight"] = Widen(data.Weight);
            parameters["bias"] = Widen(data.Bias!);
        }

        double Loss()
        {
            var y = new double[rows * columns];
            ReferenceLayerNorm.Forward(
                rows, columns, parameters["x"], parameters.GetValueOrDefault("weight", []), parameters.GetValueOrDefault("bias", []), 1e-5, y, new double[rows], new double[rows]);
            return y.Zip(u, (a, b) => a * b).Sum();
        }

        var mean = new double[rows];
        var rstd = new double[rows];
        ReferenceLayerNorm.Forward(rows, columns, parameters["x"], parameters.GetValueOrDefault("weight", []), parameters.GetValueOrDefault("bias", []), 1e-5, new double[rows * columns], mean, rstd);
        var analytic = new Dictionary<string, double[]> { ["x"] = new double[rows * columns] };
        if (data.Weight is not null)
        {
            analytic["weight"] = new double[columns];
            analytic["bias"] = new double[columns];
        }

        ReferenceLayerNorm.Backward(
            rows, columns, parameters["x"], mean, rstd, parameters.GetValueOrDefault("weight", []), u, analytic["x"], analytic.GetValueOrDefault("weight", []), analytic.GetValueOrDefault("bias", []));
        GradientCheck.MaxRelativeError(parameters, analytic, Loss);
    }

    [Test]
    public void BadShapesAndEpsilonAreRefusedBeforeAnythingIsWritten()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var y = device.Zeros(2, 3);
        using var mean = device.Zeros(2);
        using var rstd = device.Zeros(2);
        using var shortWeight = device.Zeros(2);
        using var empty = device.Zeros(2, 0);
        using var transposedY = device.Zeros(3, 2);
        var error = Assert.Throws<ArgumentException>(() => Ops.LayerNormForward(x, shortWeight, null, 1e-5f, y, mean, rstd))!;
        Assert.That(error.Message, Does.Contain("[2]").And.Contain("D = 3"));
        Assert.Throws<ArgumentException>(() => Ops.LayerNormForward(x, null, null, 1e-5f, transposedY, mean, rstd));
        Assert.Throws<ArgumentException>(() => Ops.LayerNormForward(empty, null, null, 1e-5f, empty, mean, rstd));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.LayerNormForward(x, null, null, -1f, y, mean, rstd));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.LayerNormForward(x, null, null, float.NaN, y, mean, rstd));
        Assert.Throws<ArgumentException>(() => Ops.LayerNormBackward(x, mean, rstd, null, y, transposedY, null, null));
        Assert.That(y.ToArray(), Is.All.Zero);
        Assert.That(mean.ToArray(), Is.All.Zero);
    }

    private static void AssertDx(float[] actual, double[] expected, float[] rstd, string what)
        => AssertWithin(actual, expected, e => 2e-6 * (rstd[e / (expected.Length / rstd.Length)] + Math.Abs(expected[e])), what);

    private static void AssertParameterGradient(float[] actual, double[] expected, int rows, string what)
        => AssertWithin(actual, expected, j => (1e-6 * Math.Sqrt(rows)) + (1e-6 * Math.Abs(expected[j])), what);

    /// <summary>A layer norm's inputs; by default seeded, each row uniform in [−2, 2) around its own offset in [−3, 3), weight around 1, bias around 0.</summary>
    private sealed class LayerNormData(int rows, int columns, float[] x, float[]? weight, float[]? bias)
    {
        public LayerNormData(int rows, int columns, Affine affine, int seed)
            : this(rows, columns, Seeded(rows, columns, affine, seed, out var weight, out var bias), weight, bias)
        {
        }

        public int Columns => columns;

        public float[] X => x;

        public float[]? Weight => weight;

        public float[]? Bias => bias;

        /// <summary>Checks a forward's outputs against the reference's, to the bounds of the class summary.</summary>
        public void AssertForward(float[] y, float[] mean, float[] rstd, string what)
        {
            var expectedY = new double[rows * columns];
            var expectedMean = new double[rows];
            var expectedRstd = new double[rows];
            ReferenceLayerNorm.Forward(rows, columns, Widen(x), weight is null ? [] : Widen(weight), bias is null ? [] : Widen(bias), 1e-5, expectedY, expectedMean, expectedRstd);
            AssertWithin(mean, expectedMean, r => Ulp(expectedMean[r]) + 1e-7, $"{what}: mean");
            AssertWithin(rstd, expectedRstd, r => 4e-6 * expectedRstd[r], $"{what}: rstd");
            AssertWithin(
                y,
                expectedY,
                e => (2e-6 * (1 + Math.Abs(expectedY[e]))) + (Ulp(expectedMean[e / columns]) * expectedRstd[e / columns] * (weight is null ? 1 : Math.Abs(weight[e % columns]))),
                $"{what}: y");
        }

        private static float[] Seeded(int rows, int columns, Affine affine, int seed, out float[]? weight, out float[]? bias)
        {
            var rng = new Random(seed);
            var x = Uniform(rng, rows * columns, 2);
            for (int r = 0; r < rows; r++)
            {
                float offset = (float)(((rng.NextDouble() * 2) - 1) * 3);
                for (int j = 0; j < columns; j++)
                {
                    x[(r * columns) + j] += offset;
                }
            }

            weight = affine == Affine.None ? null : [.. Uniform(rng, columns, 0.5).Select(v => v + 1f)];
            bias = affine == Affine.WeightAndBias ? Uniform(rng, columns, 0.5) : null;
            return x;
        }
    }
}
