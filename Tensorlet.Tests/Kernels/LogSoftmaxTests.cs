using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Nn;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The log-softmax and the backwards of the softmax and the log-softmax, on every device against the float64 reference
/// (fed the very float32 inputs the kernel saw), and the reference backwards against central differences.
/// Tolerances: the log-softmax is (x − max) − log Σ with x − max exact near the maximum (Sterbenz) and every term
/// O(10) whatever the logits' magnitude, so its error is a few float32 ulps of 10 (|Δ| ≤ 2e-6 + 2e-6·|ref|, as the
/// cross-entropy's loss). A backward's row sum s runs over up to V = 1000 terms of
/// magnitude ≤ 1 (dy in ±1, y a probability, or e^y ≤ 1), so s carries √V·6e-8·V ≈ 2e-6·|s| at most independent
/// roundings and up to 6e-5 where every rounding points the same way; dx = y⊙(dy − s) or dy − e^y·s takes it times a
/// factor ≤ 1: |Δ| ≤ 1e-5 + 1e-5·|ref|. An error of 1e-4 is outside both bounds.
/// </summary>
public sealed class LogSoftmaxTests
{
    private static readonly (int Rows, int Classes)[] Sizes =
        [(1, 1), (1, 7), (1, 33), (1, 127), (7, 1), (7, 7), (7, 33), (7, 127), (33, 1), (33, 7), (33, 33), (33, 127), (3, 1000)];

    private static IEnumerable<TestCaseData> DevicesAndSizes() =>
        from device in TestDevices.All
        from size in Sizes
        select new TestCaseData(device, size.Rows, size.Classes).SetArgDisplayNames(device, $"N={size.Rows}", $"V={size.Classes}");

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void LogSoftmaxMatchesReference(string deviceName, int rows, int classes)
    {
        var device = TestDevices.Get(deviceName);
        var x = Uniform(new Random((rows * 10007) + classes), rows * classes, 6);
        using var xT = device.FromArray(x, rows, classes);
        using var yT = device.Zeros(rows, classes);

        Ops.LogSoftmax(xT, yT);

        AssertClose(yT.ToArray(), ReferenceLogSoftmax(rows, classes, x), "y");
        Assert.That(xT.ToArray(), Is.EqualTo(x), "x is not touched");
    }

    private static IEnumerable<TestCaseData> DevicesSizesAndFunctions() =>
        from device in TestDevices.All
        from size in Sizes
        from log in new[] { false, true }
        select new TestCaseData(device, size.Rows, size.Classes, log).SetArgDisplayNames(device, $"N={size.Rows}", $"V={size.Classes}", log ? "log-softmax" : "softmax");

    [TestCaseSource(nameof(DevicesSizesAndFunctions))]
    public void BackwardMatchesReferenceInPlace(string deviceName, int rows, int classes, bool log)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((rows * 10007) + classes + 1);
        var x = Uniform(rng, rows * classes, 6);
        var y = log ? Narrow(ReferenceLogSoftmax(rows, classes, x)) : SoftmaxOf(rows, classes, x);
        var dy = Uniform(rng, rows * classes, 1);
        using var yT = device.FromArray(y, rows, classes);
        using var dyT = device.FromArray(dy, rows, classes);

        // In place, as the modules call them: dx over dy.
        var dx = new double[rows * classes];
        if (log)
        {
            Ops.LogSoftmaxBackward(yT, dyT, dyT);
            ReferenceSoftmax.LogSoftmaxBackward(rows, classes, Widen(y), Widen(dy), dx);
        }
        else
        {
            Ops.SoftmaxBackward(yT, dyT, dyT);
            ReferenceSoftmax.SoftmaxBackward(rows, classes, Widen(y), Widen(dy), dx);
        }

        AssertClose(dyT.ToArray(), dx, "dx", 1e-5, 1e-5);
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void BackwardsIntoAnotherTensorLeaveTheirInputs(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int rows = 5, classes = 9;
        var rng = new Random(8);
        var y = SoftmaxOf(rows, classes, Uniform(rng, rows * classes, 3));
        var dy = Uniform(rng, rows * classes, 1);
        using var yT = device.FromArray(y, rows, classes);
        using var dyT = device.FromArray(dy, rows, classes);
        using var dxT = device.Zeros(rows, classes);

        Ops.SoftmaxBackward(yT, dyT, dxT);

        var dx = new double[rows * classes];
        ReferenceSoftmax.SoftmaxBackward(rows, classes, Widen(y), Widen(dy), dx);
        AssertClose(dxT.ToArray(), dx, "dx", 1e-5, 1e-5);
        Assert.That(dyT.ToArray(), Is.EqualTo(dy), "dy is not touched");
        Assert.That(yT.ToArray(), Is.EqualTo(y), "y is not touched");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LogSoftmaxIsExactWhereAProbabilityIsTooSmallForAFloat(string deviceName)
    {
        // log(1e-50) is about −115: e^−115 is below float's smallest subnormal, so log(softmax(x)) would be −∞; the
        // log-softmax is x − (max + log Σ) with the max shift, so huge logits stay finite and tiny probabilities exact.
        var device = TestDevices.Get(deviceName);
        float[] x = [0f, -115f, 1e4f, -1e4f, 3f, 5f];
        using var xT = device.FromArray(x, 2, 3);
        using var yT = device.Zeros(2, 3);

        Ops.LogSoftmax(xT, yT);

        var y = yT.ToArray();
        Assert.That(y.All(float.IsFinite), Is.True, $"finite log-probabilities: {string.Join(", ", y)}");
        AssertClose(y, ReferenceLogSoftmax(2, 3, x), "y", 2e-6, 2e-6);
    }

    private static IEnumerable<TestCaseData> DevicesAndMagnitudes() =>
        from device in TestDevices.All
        from magnitude in new[] { 1e4f, 1e6f, 3e7f }
        select new TestCaseData(device, magnitude).SetArgDisplayNames(device, $"x≈{magnitude:G}");

    [TestCaseSource(nameof(DevicesAndMagnitudes))]
    public void LogSoftmaxKeepsLogSumNextToALargeMaximum(string deviceName, float magnitude)
    {
        // Rows of V = 37 (whole registers and a tail) within ±2 of the magnitude, so log Σ is about 2.3. x − max is
        // exact there (Sterbenz), and y is a few ulps of 10; max + log Σ rounded at the magnitude (a step of 0.0625
        // at 1e6, 2 at 3e7) would lose log Σ.
        var device = TestDevices.Get(deviceName);
        const int rows = 3, classes = 37;
        var rng = new Random((int)MathF.Log2(magnitude));
        var x = Uniform(rng, rows * classes, 2).Select(v => magnitude + v).ToArray();
        using var xT = device.FromArray(x, rows, classes);
        using var yT = device.Zeros(rows, classes);

        Ops.LogSoftmax(xT, yT);

        AssertClose(yT.ToArray(), ReferenceLogSoftmax(rows, classes, x), "y");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LogSoftmaxOfTwoLogitsAtFloatsLimitIsMinusLogTwo(string deviceName)
    {
        // max + log 2 rounds to max at 3e38, which gave 0; (x − max) − log Σ gives −log 2, as PyTorch does, and −∞
        // where x − max overflows (−3e38 − 3e38), also as PyTorch does.
        var device = TestDevices.Get(deviceName);
        using var xT = device.FromArray([3e38f, 3e38f, -3e38f, 0f], 1, 4);
        using var yT = device.Zeros(1, 4);

        Ops.LogSoftmax(xT, yT);

        var y = yT.ToArray();
        AssertClose([y[0], y[1], y[3]], [-Math.Log(2), -Math.Log(2), -3e38 - Math.Log(2)], "y at 3e38, 3e38 and 0");
        Assert.That(y[2], Is.EqualTo(float.NegativeInfinity), "y at −3e38");
    }

    [Test]
    public void LogSoftmaxRefusesToWriteOverItsInput()
    {
        var device = TestDevices.Get("cpu");
        using var xT = device.FromArray([1, 2, 3, 4], 2, 2);

        var ex = Assert.Throws<ArgumentException>(() => Ops.LogSoftmax(xT, xT));

        Assert.That(ex!.Message, Does.Contain("LogSoftmax").And.Contain("buffer of its own"));
        Assert.That(xT.ToArray(), Is.EqualTo(new float[] { 1, 2, 3, 4 }), "nothing is written");
    }

    [Test]
    public void CpuDeviceMatchesReferenceAtTrainingSize()
    {
        // N = 9900 rows of V = 32, across threads.
        var device = TestDevices.Get("cpu");
        const int rows = 9900, classes = 32;
        var rng = new Random(99);
        var x = Uniform(rng, rows * classes, 8);
        var dy = Uniform(rng, rows * classes, 1);
        using var xT = device.FromArray(x, rows, classes);
        using var yT = device.Zeros(rows, classes);
        using var dyT = device.FromArray(dy, rows, classes);

        Ops.LogSoftmax(xT, yT);
        var y = yT.ToArray();
        Ops.LogSoftmaxBackward(yT, dyT, dyT);

        AssertClose(y, ReferenceLogSoftmax(rows, classes, x), "y");
        var dx = new double[rows * classes];
        ReferenceSoftmax.LogSoftmaxBackward(rows, classes, Widen(y), Widen(dy), dx);
        AssertClose(dyT.ToArray(), dx, "dx", 1e-5, 1e-5);
    }

    [TestCase(1, false)]
    [TestCase(7, false)]
    [TestCase(1, true)]
    [TestCase(7, true)]
    public void ReferenceBackwardsMatchCentralDifferencesOfTheReferenceForwards(int classes, bool log)
    {
        // L = Σ dy⊙f(x), so dL/dx is the backward of dy.
        const int rows = 3;
        const double step = 1e-6;
        var rng = new Random(classes + (log ? 100 : 0));
        var x = Widen(Uniform(rng, rows * classes, 3));
        var dy = Widen(Uniform(rng, rows * classes, 1));
        var dx = ReferenceModules.SoftmaxBackward(ReferenceModules.Softmax(x, rows, classes, log), dy, rows, classes, log);

        double worst = 0;
        for (int k = 0; k < x.Length; k++)
        {
            double saved = x[k];
            x[k] = saved + step;
            double plus = Objective();
            x[k] = saved - step;
            double minus = Objective();
            x[k] = saved;
            worst = Math.Max(worst, RelativeError(dx[k], (plus - minus) / (2 * step)));
        }

        Assert.That(worst, Is.LessThan(1e-6));

        double Objective() => ReferenceModules.Softmax(x, rows, classes, log).Zip(dy, (a, b) => a * b).Sum();
    }

    /// <summary>The three kernels on a CPU accelerator with CUDA's 32-lane warps (see the cross-entropy tests for why).</summary>
    [TestCase(9, 1)]
    [TestCase(9, 32)]
    [TestCase(9, 45)]
    [TestCase(5, 100)]
    public void TheGpuWarpShapeMatchesTheReferenceOnA32LaneCpuAccelerator(int rows, int classes)
    {
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 4, 1)).EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        var kernels = new IlgpuFusedKernels(accelerator);
        var rng = new Random((rows * 101) + classes);
        var x = Uniform(rng, rows * classes, 6);
        var dy = Uniform(rng, rows * classes, 1);
        var p = SoftmaxOf(rows, classes, x);
        using var xBuffer = accelerator.Allocate1D(x);
        using var yBuffer = accelerator.Allocate1D<float>(rows * classes);
        using var pBuffer = accelerator.Allocate1D(p);
        using var dyBuffer = accelerator.Allocate1D(dy);
        using var dxBuffer = accelerator.Allocate1D<float>(rows * classes);
        using var dxLogBuffer = accelerator.Allocate1D<float>(rows * classes);

        kernels.LogSoftmax(xBuffer.View, yBuffer.View, rows, classes);
        kernels.SoftmaxBackward(pBuffer.View, dyBuffer.View, dxBuffer.View, rows, classes);
        kernels.LogSoftmaxBackward(yBuffer.View, dyBuffer.View, dxLogBuffer.View, rows, classes);

        var y = yBuffer.GetAsArray1D();
        AssertClose(y, ReferenceLogSoftmax(rows, classes, x), "log-softmax");
        var dx = new double[rows * classes];
        ReferenceSoftmax.SoftmaxBackward(rows, classes, Widen(p), Widen(dy), dx);
        AssertClose(dxBuffer.GetAsArray1D(), dx, "softmax backward", 1e-5, 1e-5);
        ReferenceSoftmax.LogSoftmaxBackward(rows, classes, Widen(y), Widen(dy), dx);
        AssertClose(dxLogBuffer.GetAsArray1D(), dx, "log-softmax backward", 1e-5, 1e-5);
    }

    private static double[] ReferenceLogSoftmax(int rows, int classes, float[] x)
    {
        var y = new double[x.Length];
        ReferenceSoftmax.LogSoftmax(rows, classes, Widen(x), y);
        return y;
    }

    private static float[] SoftmaxOf(int rows, int classes, float[] x)
    {
        var p = new double[x.Length];
        ReferenceSoftmax.WithTemperature(rows, classes, Widen(x), p, 1.0);
        return Narrow(p);
    }

    private static float[] Narrow(double[] values) => Array.ConvertAll(values, v => (float)v);
}
