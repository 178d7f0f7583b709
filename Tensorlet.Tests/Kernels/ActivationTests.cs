using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class ActivationTests
{
    // Forward: the float kernels compute exp or erf (or max) and one or two divisions, each within a few ulps; tanh
    // through (1 − e)/(1 + e) loses relative accuracy near 0 but stays within about 2e-7 absolute, and GELU's 1 + erf
    // cancels for negative x to about 3e-8·|x| absolute. 1e-6 absolute plus 1e-6 relative allows for that and is still
    // 100× tighter than the project's general elementwise bound.
    private const double ForwardAbs = 1e-6;
    private const double ForwardRel = 1e-6;

    // Backward: two or three float multiplies of inputs rounded to float (GELU's also an erf or an exp, as its forward):
    // a few ulps, so 1e-6 relative.
    private const double BackwardAbs = 1e-7;
    private const double BackwardRel = 1e-6;

    private static readonly Activation[] Activations = [Activation.Relu, Activation.Tanh, Activation.Sigmoid, Activation.Gelu, Activation.GeluTanh];

    private static IEnumerable<TestCaseData> DevicesAndActivations()
    {
        foreach (var device in TestDevices.All)
        {
            foreach (var activation in Activations)
            {
                yield return new TestCaseData(device, activation);
            }
        }
    }

    [TestCase(Activation.Relu)]
    [TestCase(Activation.Tanh)]
    [TestCase(Activation.Sigmoid)]
    [TestCase(Activation.Gelu)]
    [TestCase(Activation.GeluTanh)]
    public void ReferenceBackwardMatchesCentralDifferences(Activation activation)
    {
        const double h = 1e-6;
        var x = ToDouble(Uniform(200, 1, -3f, 3f));
        var dy = ToDouble(Uniform(200, 2));
        for (int i = 0; i < x.Length; i++)
        {
            if (Math.Abs(x[i]) < 1e-3)
            {
                continue; // relu has a kink at 0, where central differences are not a derivative.
            }

            // L(x) = Σ dy·f(x), so ∂L/∂x_i = dy_i·(f(x_i + h) − f(x_i − h))/2h.
            double numeric = dy[i] * (ReferenceActivation.Forward(activation, x[i] + h) - ReferenceActivation.Forward(activation, x[i] - h)) / (2 * h);
            double analytic = ReferenceActivation.Backward(activation, x[i], ReferenceActivation.Forward(activation, x[i]), dy[i]);
            double relative = Math.Abs(analytic - numeric) / Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), 1e-8);
            Assert.That(relative, Is.LessThan(1e-6), $"{activation} at x={x[i]}: analytic {analytic}, numeric {numeric}");
        }
    }

    /// <summary>The CPU activation loops at each register width the machine runs (Vector128 is ARM64's fast path, checked here on x86).</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuLoopsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);

        const int threads = 2;
        foreach (var activation in Activations)
        {
            foreach (int n in new[] { 1, 3, 4, 7, 8, 15, 16, 17, 33, 100, 70001 })
            {
                var data = Uniform(n, 300 + n, -12f, 12f);
                var expected = new double[n];
                ReferenceActivation.Forward(activation, ToDouble(data), expected);
                var y = new float[n];
                CpuActivation.Forward(activation, data, y, threads, width);
                AssertClose(y, expected, ForwardAbs, ForwardRel, $"{activation} forward at {width}, n={n}");

                var dy = Uniform(n, 400 + n, -2f, 2f);
                var expectedDx = new double[n];
                var yd = Array.ConvertAll(y, v => (double)v);
                ReferenceActivation.Backward(activation, ToDouble(data), yd, ToDouble(dy), expectedDx);
                var dx = new float[n];
                CpuActivation.Backward(activation, data, y, dy, dx, threads, width);
                AssertClose(dx, expectedDx, BackwardAbs, BackwardRel, $"{activation} backward at {width}, n={n}");
            }
        }
    }

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void ForwardMatchesTheReference(string deviceName, Activation activation)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            // Past ±10 covers saturation, where exp overflows in float for the sigmoid of very negative inputs.
            var data = Uniform(n, 100 + n, -12f, 12f);
            var expected = new double[n];
            ReferenceActivation.Forward(activation, ToDouble(data), expected);

            using var x = device.FromArray(data, n);
            using var y = device.Zeros(n);
            Ops.ActivationForward(activation, x, y);
            AssertClose(y.ToArray(), expected, ForwardAbs, ForwardRel, $"{activation} forward n={n}");

            Ops.ActivationForward(activation, x, x);
            AssertClose(x.ToArray(), expected, ForwardAbs, ForwardRel, $"{activation} forward in place n={n}");
        }
    }

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void ForwardSaturatesAtExtremeInputs(string deviceName, Activation activation)
    {
        var device = TestDevices.Get(deviceName);
        float[] data = [-3e38f, -1e30f, -200f, -90f, -0f, 0f, 1e-30f, 90f, 200f, 1e30f, 3e38f];
        var expected = new double[data.Length];
        ReferenceActivation.Forward(activation, ToDouble(data), expected);
        using var x = device.FromArray(data, data.Length);
        Ops.ActivationForward(activation, x, x);
        AssertClose(x.ToArray(), expected, ForwardAbs, ForwardRel, $"{activation} at extremes");
    }

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void BackwardSaturatesAtExtremeInputs(string deviceName, Activation activation)
    {
        var device = TestDevices.Get(deviceName);
        float[] xData = [-3e38f, -1e30f, -1e20f, -200f, -20f, -10f, -9.5f, -5f, -0f, 0f, 1e-30f, 5f, 9.5f, 10f, 20f, 200f, 1e20f, 1e30f, 3e38f];
        var yData = Array.ConvertAll(xData, v => (float)ReferenceActivation.Forward(activation, v));
        var dyData = Uniform(xData.Length, 7, -2f, 2f);
        var expected = new double[xData.Length];
        ReferenceActivation.Backward(activation, ToDouble(xData), ToDouble(yData), ToDouble(dyData), expected);
        using var x = device.FromArray(xData, xData.Length);
        using var y = device.FromArray(yData, xData.Length);
        using var dy = device.FromArray(dyData, xData.Length);
        Ops.ActivationBackward(activation, x, y, dy, dy);
        AssertClose(dy.ToArray(), expected, BackwardAbs, BackwardRel, $"{activation} backward at extremes");
    }

    [TestCaseSource(nameof(GeluDevices))]
    public void GelusBackwardIsNaNAtInfiniteAndNaNInputs(string deviceName, Activation activation)
    {
        var device = TestDevices.Get(deviceName);
        float[] xData = [float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e30f];
        using var x = device.FromArray(xData, xData.Length);
        using var y = device.Zeros(xData.Length);
        Ops.ActivationForward(activation, x, y);
        using var dy = device.FromArray([1f, 1f, 1f, 1f], xData.Length);
        using var dx = device.Zeros(xData.Length);

        Ops.ActivationBackward(activation, x, y, dy, dx);

        var result = dx.ToArray();
        Assert.That(result[..3], Is.All.NaN, $"{activation}: PyTorch's derivative at ±inf and NaN is NaN");
        // PyTorch's float32 tanh form gives NaN here too, its x³ overflowing; the kernels keep the true derivative.
        Assert.That(result[3], Is.EqualTo(1f), "a large finite x keeps its derivative, 1");
    }

    [TestCaseSource(nameof(GeluDevices))]
    public void GelusBackwardRefusesAnInPlaceForward(string deviceName, Activation activation)
    {
        var device = TestDevices.Get(deviceName);
        using var x = device.FromArray([-1f, 0.5f, 2f], 3);
        Ops.ActivationForward(activation, x, x);
        using var dy = device.FromArray([1f, 1f, 1f], 3);

        var error = Assert.Throws<ArgumentException>(() => Ops.ActivationBackward(activation, x, x, dy, dy))!;
        Assert.That(error.Message, Does.StartWith($"The {activation} backward reads the forward's input x, but x is its output y"));
    }

    private static IEnumerable<TestCaseData> GeluDevices() =>
        from device in TestDevices.All
        from activation in new[] { Activation.Gelu, Activation.GeluTanh }
        select new TestCaseData(device, activation);

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void BackwardMatchesTheReference(string deviceName, Activation activation)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            // y is the forward output of x (rounded to float, as the layer saves it); relu gets exact zeros too.
            var xData = Uniform(n, 200 + n, -3f, 3f);
            var yData = Array.ConvertAll(xData, v => (float)ReferenceActivation.Forward(activation, v));
            var dyData = Uniform(n, 300 + n);
            var expected = new double[n];
            ReferenceActivation.Backward(activation, ToDouble(xData), ToDouble(yData), ToDouble(dyData), expected);

            using var x = device.FromArray(xData, n);
            using var y = device.FromArray(yData, n);
            using var dy = device.FromArray(dyData, n);
            using var dx = device.Zeros(n);
            Ops.ActivationBackward(activation, x, y, dy, dx);
            AssertClose(dx.ToArray(), expected, BackwardAbs, BackwardRel, $"{activation} backward n={n}");

            Ops.ActivationBackward(activation, x, y, dy, dy);
            AssertClose(dy.ToArray(), expected, BackwardAbs, BackwardRel, $"{activation} backward in place n={n}");
        }
    }
}
