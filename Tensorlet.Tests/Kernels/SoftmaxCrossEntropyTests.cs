using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The fused softmax cross-entropy on every device against the float64 reference, and the reference gradient
/// against finite differences. Tolerance |Δ| ≤ 2e-6 + 2e-6·|ref|: probabilities are an exp (~1 ulp) over a float32
/// sum of ≤ V terms in [0, 1]; V·6e-8 bounds its relative error only when every rounding points the same way, while
/// independent roundings grow like √V·6e-8 ≈ 2e-6 at V = 1000 (less for the blocked vector sums); the loss is
/// log(sum) + (max − x_t) with both terms O(10), so its absolute error is a few float32 ulps of 10 (≈ 1e-6). An error
/// of 1e-5 is outside the bound.
/// </summary>
public sealed class SoftmaxCrossEntropyTests
{
    private static readonly (int Rows, int Classes)[] Sizes =
        [(1, 1), (1, 7), (1, 33), (1, 127), (7, 1), (7, 7), (7, 33), (7, 127), (33, 1), (33, 7), (33, 33), (33, 127), (3, 1000)];

    private static IEnumerable<TestCaseData> DevicesAndSizes() =>
        from device in TestDevices.All
        from size in Sizes
        select new TestCaseData(device, size.Rows, size.Classes).SetArgDisplayNames(device, $"N={size.Rows}", $"V={size.Classes}");

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void MatchesReference(string deviceName, int rows, int classes)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((rows * 10007) + classes);
        var logits = Uniform(rng, rows * classes, 6);
        var targets = RandomTargets(rng, rows, classes);
        const float gradScale = 0.37f;
        using var logitsT = device.FromArray(logits, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.Zeros(rows);
        using var dLogitsT = device.Zeros(rows, classes);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, dLogitsT, gradScale);

        var (losses, dLogits) = Reference(rows, classes, logits, targets, gradScale);
        AssertClose(lossesT.ToArray(), losses, "losses");
        AssertClose(dLogitsT.ToArray(), dLogits, "dLogits");
        Assert.That(logitsT.ToArray(), Is.EqualTo(logits), "the logits must not be touched when dLogits is another tensor");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void InPlaceWritesTheGradientOverTheLogits(string deviceName, int rows, int classes)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((rows * 10007) + classes + 1);
        var logits = Uniform(rng, rows * classes, 6);
        var targets = RandomTargets(rng, rows, classes);
        using var logitsT = device.FromArray(logits, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.Zeros(rows);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, logitsT, 1f / rows);

        var (losses, dLogits) = Reference(rows, classes, logits, targets, 1.0 / rows);
        AssertClose(lossesT.ToArray(), losses, "losses");
        AssertClose(logitsT.ToArray(), dLogits, "dLogits (over logits)");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LossIsMinusLogSoftmaxOfTheTarget(string deviceName)
    {
        // Worked by hand: softmax(1, 2, 3) = (0.0900306, 0.2447285, 0.6652410); −log 0.6652410 = 0.4076060;
        // a row of equal logits over 3 classes gives ln 3 whatever the target.
        var device = TestDevices.Get(deviceName);
        using var logitsT = device.FromArray([1, 2, 3, 0, 0, 0], 2, 3);
        using var targetsT = device.IndexFromArray([2, 1], 2);
        using var lossesT = device.Zeros(2);
        using var dLogitsT = device.Zeros(2, 3);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, dLogitsT, 1f);

        AssertClose(lossesT.ToArray(), [0.40760596444, Math.Log(3)], "losses", 1e-6, 1e-6);
        double third = 1.0 / 3;
        AssertClose(dLogitsT.ToArray(), [0.09003057317, 0.24472847105, 0.66524095578 - 1, third, third - 1, third], "dLogits", 1e-6, 1e-6);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LossIsMinusLogOfTheSoftmaxKernelsProbabilityOfTheTarget(string deviceName)
    {
        // Two kernels on the same device that must agree: loss = −log softmax(x)[t], and dLogits + onehot = softmax.
        // p ≥ e^−12 here (logits in ±6 over 33 classes), so −log p carries p's relative error (≤ ~1e-6) as an absolute one.
        var device = TestDevices.Get(deviceName);
        const int rows = 7, classes = 33;
        var rng = new Random(21);
        var logits = Uniform(rng, rows * classes, 6);
        var targets = RandomTargets(rng, rows, classes);
        using var logitsT = device.FromArray(logits, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.Zeros(rows);
        using var dLogitsT = device.Zeros(rows, classes);
        using var probabilitiesT = device.Zeros(rows, classes);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, dLogitsT, 1f);
        Ops.SoftmaxWithTemperature(logitsT, probabilitiesT, 1f);

        var probabilities = probabilitiesT.ToArray();
        var dLogits = dLogitsT.ToArray();
        var expectedLosses = new double[rows];
        var softmaxFromGradient = new float[rows * classes];
        for (int r = 0; r < rows; r++)
        {
            expectedLosses[r] = -Math.Log(probabilities[(r * classes) + targets[r]]);
            for (int k = 0; k < classes; k++)
            {
                softmaxFromGradient[(r * classes) + k] = dLogits[(r * classes) + k] + (k == targets[r] ? 1f : 0f);
            }
        }

        AssertClose(lossesT.ToArray(), expectedLosses, "losses", 1e-5, 1e-5);
        AssertClose(softmaxFromGradient, Widen(probabilities), "dLogits + onehot", 1e-6, 1e-5);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void GradScaleScalesTheGradientAndNotTheLoss(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int rows = 5, classes = 9;
        var rng = new Random(3);
        var logits = Uniform(rng, rows * classes, 3);
        var targets = RandomTargets(rng, rows, classes);
        using var logitsT = device.FromArray(logits, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesOne = device.Zeros(rows);
        using var lossesScaled = device.Zeros(rows);
        using var dOne = device.Zeros(rows, classes);
        using var dScaled = device.Zeros(rows, classes);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesOne, dOne, 1f);
        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesScaled, dScaled, 0.125f);

        Assert.That(lossesScaled.ToArray(), Is.EqualTo(lossesOne.ToArray()));

        // 0.125 is a power of two: scaling is exact, so the scaled gradient is bit for bit one eighth.
        Assert.That(dScaled.ToArray(), Is.EqualTo(dOne.ToArray().Select(d => d * 0.125f).ToArray()));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void HugeLogitsGiveFiniteLossesAndGradients(string deviceName)
    {
        // A naive exp overflows at 89; the max shift keeps every exponent ≤ 0.
        var device = TestDevices.Get(deviceName);
        float[] logits = [1e4f, -1e4f, 0f, 5f, 1e4f, -1e4f, 0f, 5f, 1e4f, 1e4f, 1e4f, 1e4f, -1e4f, -1e4f, -1e4f, -1e4f];
        int[] targets = [0, 1, 2, 3];
        using var logitsT = device.FromArray(logits, 4, 4);
        using var targetsT = device.IndexFromArray(targets, 4);
        using var lossesT = device.Zeros(4);
        using var dLogitsT = device.Zeros(4, 4);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, dLogitsT, 1f);

        var losses = lossesT.ToArray();
        var dLogits = dLogitsT.ToArray();
        Assert.That(losses.Concat(dLogits).All(float.IsFinite), Is.True, "losses and gradients must be finite");
        var (expectedLosses, expectedDLogits) = Reference(4, 4, logits, targets, 1.0);

        // The second row's loss is 2e4: the relative term of the bound (2 here) covers float32's spacing at 2e4.
        AssertClose(losses, expectedLosses, "losses");
        AssertClose(dLogits, expectedDLogits, "dLogits");
        Assert.That(expectedLosses[1], Is.EqualTo(2e4).Within(1e-9), "the reference itself");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ValidTargetsInASliceOfABufferHoldingBadOnesWork(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var logits = Uniform(new Random(12), 2 * 4, 3);
        using var logitsT = device.FromArray(logits, 2, 4);
        using var allTargets = device.IndexFromArray([4, 3, 0, -1], 4);
        using var targetsT = allTargets.Slice(1, 2);
        using var lossesT = device.Zeros(2);
        using var dLogitsT = device.Zeros(2, 4);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, dLogitsT, 1f);

        var (expectedLosses, expectedDLogits) = Reference(2, 4, logits, [3, 0], 1.0);
        AssertClose(lossesT.ToArray(), expectedLosses, "losses");
        AssertClose(dLogitsT.ToArray(), expectedDLogits, "dLogits");
    }

    [TestCaseSource(typeof(FusedKernelTestData), nameof(DevicesAndIgnoreIndices))]
    public void IgnoredRowsGetALossOfZeroAndPyTorchsGradientWhateverTheyHold(string deviceName, int ignore)
    {
        // Ignored rows holding −∞, NaN and +∞: the loss is written as 0, where a multiply by 0 would give NaN; the
        // gradient is PyTorch's 0 − softmax·0, which is 0 for the −∞ row and NaN for the NaN and +∞ rows, whose softmax
        // is NaN. In place, over the logits.
        var device = TestDevices.Get(deviceName);
        const int rows = IgnoredRows, classes = IgnoredClasses;
        var (logits, targets) = IgnoredRowsOfNonFinites(ignore);
        using var logitsT = device.FromArray(logits, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.FromArray(Uniform(new Random(7), rows, 1), rows);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, logitsT, 0.25f, ignore);

        var losses = new double[rows];
        var dLogits = new double[logits.Length];
        ReferenceSoftmax.CrossEntropy(rows, classes, Widen(logits), targets, losses, dLogits, 0.25, ignore);
        AssertClose(lossesT.ToArray(), losses, "losses");
        var actual = logitsT.ToArray();
        bool[] nan = [.. dLogits.Select(double.IsNaN)];
        Assert.That(actual.Select(float.IsNaN), Is.EqualTo(nan), "NaN in the gradient rows of the NaN and +∞ logits only");
        Assert.That(nan.Count(n => n), Is.EqualTo(2 * classes), "the reference's NaN rows");
        AssertClose([.. actual.Select(v => float.IsNaN(v) ? 0f : v)], [.. dLogits.Select(v => double.IsNaN(v) ? 0 : v)], "dLogits (over the logits)");
        Assert.That(actual[..classes], Is.All.Zero, "the −∞ row's gradient");
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(7)]
    public void ReferenceGradientMatchesCentralDifferencesOfTheReferenceLoss(int classes)
    {
        // loss = Σ_r losses[r] with gradScale 1, so dLogits is its exact gradient.
        const int rows = 4;
        const double step = 1e-6;
        var rng = new Random(classes);
        var logits = Widen(Uniform(rng, rows * classes, 3));
        var targets = RandomTargets(rng, rows, classes);
        var losses = new double[rows];
        var dLogits = new double[logits.Length];
        ReferenceSoftmax.CrossEntropy(rows, classes, logits, targets, losses, dLogits, 1.0);

        double worst = 0;
        for (int k = 0; k < logits.Length; k++)
        {
            // Logit k only moves the loss of its own row; differencing that one loss avoids the rounding of the total.
            int row = k / classes;
            double saved = logits[k];
            logits[k] = saved + step;
            double plus = RowLoss(row);
            logits[k] = saved - step;
            double minus = RowLoss(row);
            logits[k] = saved;
            worst = Math.Max(worst, RelativeError(dLogits[k], (plus - minus) / (2 * step)));
        }

        Assert.That(worst, Is.LessThan(1e-6));

        double RowLoss(int row)
        {
            var l = new double[rows];
            ReferenceSoftmax.CrossEntropy(rows, classes, logits, targets, l, new double[logits.Length], 1.0);
            return l[row];
        }
    }

    [Test]
    public void CpuDeviceMatchesReferenceAtTrainingSize()
    {
        // N = 9900 rows of V = 32 (100 sequences × 99 steps): through the backend and across threads.
        var device = TestDevices.Get("cpu");
        const int rows = 9900, classes = 32;
        var rng = new Random(99);
        var logits = Uniform(rng, rows * classes, 8);
        var targets = RandomTargets(rng, rows, classes);
        using var logitsT = device.FromArray(logits, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.Zeros(rows);

        Ops.SoftmaxCrossEntropy(logitsT, targetsT, lossesT, logitsT, 1f / rows);

        var (losses, dLogits) = Reference(rows, classes, logits, targets, 1.0 / rows);
        AssertClose(lossesT.ToArray(), losses, "losses");
        AssertClose(logitsT.ToArray(), dLogits, "dLogits");
    }

    /// <summary>
    /// The ILGPU kernels give each row one warp and reduce it with xor-shuffles. The default CPU accelerator's warps have
    /// 4 lanes; CUDA's have 32. This runs both softmax kernels on a CPU accelerator built with CUDA's warp (32 lanes, 4 warps
    /// per group), so CI checks the shuffle pattern a GPU runs: rows not a multiple of the warps per group, and rows
    /// shorter than, equal to and longer than a warp.
    /// </summary>
    [TestCase(9, 1)]
    [TestCase(9, 32)]
    [TestCase(9, 45)]
    [TestCase(5, 100)]
    public void TheGpuWarpShapeMatchesTheReferenceOnA32LaneCpuAccelerator(int rows, int classes)
    {
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 4, 1)).EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        Assert.That(accelerator.WarpSize, Is.EqualTo(32));
        var kernels = new IlgpuFusedKernels(accelerator);
        var rng = new Random((rows * 101) + classes);
        var logits = Uniform(rng, rows * classes, 6);
        var targets = RandomTargets(rng, rows, classes);
        using var logitsBuffer = accelerator.Allocate1D(logits);
        using var targetsBuffer = accelerator.Allocate1D(targets);
        using var lossesBuffer = accelerator.Allocate1D<float>(rows);
        using var dLogitsBuffer = accelerator.Allocate1D<float>(rows * classes);
        using var probabilitiesBuffer = accelerator.Allocate1D<float>(rows * classes);

        kernels.SoftmaxCrossEntropy(logitsBuffer.View, targetsBuffer.View, lossesBuffer.View, dLogitsBuffer.View, rows, classes, 0.5f);
        kernels.SoftmaxWithTemperature(logitsBuffer.View, probabilitiesBuffer.View, rows, classes, 0.7f);

        var (losses, dLogits) = Reference(rows, classes, logits, targets, 0.5);
        AssertClose(lossesBuffer.GetAsArray1D(), losses, "losses");
        AssertClose(dLogitsBuffer.GetAsArray1D(), dLogits, "dLogits");
        var probabilities = new double[rows * classes];
        ReferenceSoftmax.WithTemperature(rows, classes, Widen(logits), probabilities, 0.7);
        AssertClose(probabilitiesBuffer.GetAsArray1D(), probabilities, "probabilities at temperature 0.7");
    }

    /// <summary>
    /// The CPU softmax kernels at each register width the machine runs, the fused cross-entropy, the temperature softmax,
    /// the log-softmax and both backwards, against the float64 reference: a width narrower than the widest takes each
    /// row in other sweeps (Vector128 is ARM64's fast path, checked here on x86).
    /// </summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuSoftmaxKernelsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);
        foreach (var (rows, classes) in Sizes)
        {
            var rng = new Random((rows * 10007) + classes);
            var logits = Uniform(rng, rows * classes, 6);
            var targets = RandomTargets(rng, rows, classes);
            var dy = Uniform(rng, rows * classes, 1);
            string at = $"{width} N={rows} V={classes}";

            var losses = new float[rows];
            var dLogits = new float[rows * classes];
            CpuSoftmax.CrossEntropy(logits, targets, losses, dLogits, rows, classes, 0.37f, 2, width);
            var (expectedLosses, expectedDLogits) = Reference(rows, classes, logits, targets, 0.37);
            AssertClose(losses, expectedLosses, $"losses {at}");
            AssertClose(dLogits, expectedDLogits, $"dLogits {at}");

            var p = new float[rows * classes];
            CpuSoftmax.WithTemperature(logits, p, rows, classes, 0.7f, 2, width);
            var expected = new double[rows * classes];
            ReferenceSoftmax.WithTemperature(rows, classes, Widen(logits), expected, 0.7);
            AssertClose(p, expected, $"probabilities {at}");

            var y = new float[rows * classes];
            CpuSoftmax.LogSoftmax(logits, y, rows, classes, 2, width);
            ReferenceSoftmax.LogSoftmax(rows, classes, Widen(logits), expected);
            AssertClose(y, expected, $"log-softmax {at}", 1e-5, 1e-5);

            var dx = new float[rows * classes];
            CpuSoftmax.SoftmaxBackward(p, dy, dx, rows, classes, 2, width);
            ReferenceSoftmax.SoftmaxBackward(rows, classes, Widen(p), Widen(dy), expected);
            AssertClose(dx, expected, $"softmax backward {at}", 1e-5, 1e-5);
            CpuSoftmax.LogSoftmaxBackward(y, dy, dx, rows, classes, 2, width);
            ReferenceSoftmax.LogSoftmaxBackward(rows, classes, Widen(y), Widen(dy), expected);
            AssertClose(dx, expected, $"log-softmax backward {at}", 1e-5, 1e-5);
        }
    }

    private static int[] RandomTargets(Random rng, int rows, int classes)
    {
        var targets = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            targets[r] = rng.Next(classes);
        }

        return targets;
    }

    private static (double[] Losses, double[] DLogits) Reference(int rows, int classes, float[] logits, int[] targets, double gradScale)
    {
        var losses = new double[rows];
        var dLogits = new double[logits.Length];
        ReferenceSoftmax.CrossEntropy(rows, classes, Widen(logits), targets, losses, dLogits, gradScale);
        return (losses, dLogits);
    }
}
