using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class ActivationTests
{
    // Forward: the float kernels compute exp or erf (or max, or leaky ReLU's one product) and one or two divisions, each
    // within a few ulps; tanh through (1 − e)/(1 + e) loses relative accuracy near 0 but stays within about 2e-7
    // absolute, and GELU's 1 + erf cancels for negative x to about 3e-8·|x| absolute. 1e-6 absolute plus 1e-6 relative allows for that and is still
    // 100× tighter than the project's general elementwise bound.
    private const double ForwardAbs = 1e-6;
    private const double ForwardRel = 1e-6;

    // Backward: two or three float multiplies of inputs rounded to float (GELU's and SiLU's also an erf or an exp, as
    // their forwards): a few ulps, so 1e-6 relative.
    private const double BackwardAbs = 1e-7;
    private const double BackwardRel = 1e-6;

    private static IEnumerable<TestCaseData> DevicesAndActivations()
    {
        foreach (var device in TestDevices.All)
        {
            foreach (var activation in ActivationCase.All)
            {
                yield return new TestCaseData(device, activation);
            }
        }
    }

    private static IEnumerable<TestCaseData> Activations() => ActivationCase.All.Select(activation => new TestCaseData(activation));

    [TestCaseSource(nameof(Activations))]
    public void ReferenceBackwardMatchesCentralDifferences(ActivationCase activation)
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
            double numeric = dy[i] * (activation.Reference(x[i] + h) - activation.Reference(x[i] - h)) / (2 * h);
            double analytic = activation.ReferenceBackward(x[i], activation.Reference(x[i]), dy[i]);
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
        foreach (var activation in ActivationCase.All)
        {
            foreach (int n in new[] { 1, 3, 4, 7, 8, 15, 16, 17, 33, 100, 70001 })
            {
                var data = Uniform(n, 300 + n, -12f, 12f);
                var expected = activation.Reference(ToDouble(data));
                var y = new float[n];
                activation.CpuForward(data, y, threads, width);
                AssertClose(y, expected, ForwardAbs, ForwardRel, $"{activation} forward at {width}, n={n}");

                var dy = Uniform(n, 400 + n, -2f, 2f);
                var yd = Array.ConvertAll(y, v => (double)v);
                var expectedDx = activation.ReferenceBackward(ToDouble(data), yd, ToDouble(dy));
                var dx = new float[n];
                activation.CpuBackward(data, y, dy, dx, threads, width);
                AssertClose(dx, expectedDx, BackwardAbs, BackwardRel, $"{activation} backward at {width}, n={n}");
            }
        }
    }

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void ForwardMatchesTheReference(string deviceName, ActivationCase activation)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            // Past ±10 covers saturation, where exp overflows in float for the sigmoid of very negative inputs.
            var data = Uniform(n, 100 + n, -12f, 12f);
            var expected = activation.Reference(ToDouble(data));

            using var x = device.FromArray(data, n);
            using var y = device.Zeros(n);
            activation.Forward(x, y);
            AssertClose(y.ToArray(), expected, ForwardAbs, ForwardRel, $"{activation} forward n={n}");

            activation.Forward(x, x);
            AssertClose(x.ToArray(), expected, ForwardAbs, ForwardRel, $"{activation} forward in place n={n}");
        }
    }

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void ForwardSaturatesAtExtremeInputs(string deviceName, ActivationCase activation)
    {
        var device = TestDevices.Get(deviceName);
        float[] data = [-3e38f, -1e30f, -200f, -90f, -0f, 0f, 1e-30f, 90f, 200f, 1e30f, 3e38f];
        var expected = activation.Reference(ToDouble(data));
        using var x = device.FromArray(data, data.Length);
        activation.Forward(x, x);
        AssertClose(x.ToArray(), expected, ForwardAbs, ForwardRel, $"{activation} at extremes");
    }

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void BackwardSaturatesAtExtremeInputs(string deviceName, ActivationCase activation)
    {
        var device = TestDevices.Get(deviceName);
        float[] xData = [-3e38f, -1e30f, -1e20f, -200f, -20f, -10f, -9.5f, -5f, -0f, 0f, 1e-30f, 5f, 9.5f, 10f, 20f, 200f, 1e20f, 1e30f, 3e38f];
        var yData = Array.ConvertAll(xData, v => (float)activation.Reference(v));
        var dyData = Uniform(xData.Length, 7, -2f, 2f);
        var expected = activation.ReferenceBackward(ToDouble(xData), ToDouble(yData), ToDouble(dyData));
        using var x = device.FromArray(xData, xData.Length);
        using var y = device.FromArray(yData, xData.Length);
        using var dy = device.FromArray(dyData, xData.Length);
        activation.Backward(x, y, dy, dy);
        AssertClose(dy.ToArray(), expected, BackwardAbs, BackwardRel, $"{activation} backward at extremes");
    }

    [TestCaseSource(nameof(InputReadingDevices))]
    public void BackwardFromTheInputIsNaNAtInfiniteAndNaNInputs(string deviceName, Activation activation)
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
        // PyTorch's float32 GELU tanh form gives NaN here too, its x³ overflowing; the kernels keep the true derivative.
        Assert.That(result[3], Is.EqualTo(1f), "a large finite x keeps its derivative, 1");
    }

    [TestCaseSource(nameof(InputReadingDevices))]
    public void BackwardFromTheInputRefusesAnInPlaceForward(string deviceName, Activation activation)
    {
        var device = TestDevices.Get(deviceName);
        using var x = device.FromArray([-1f, 0.5f, 2f], 3);
        Ops.ActivationForward(activation, x, x);
        using var dy = device.FromArray([1f, 1f, 1f], 3);

        var error = Assert.Throws<ArgumentException>(() => Ops.ActivationBackward(activation, x, x, dy, dy))!;
        Assert.That(error.Message, Does.StartWith($"The {activation} backward reads the forward's input x, but x is its output y"));
    }

    /// <summary>SiLU where PyTorch 1.13 gives inf or NaN: x/(1 + e^−x) is +∞ at +∞, NaN at −∞ and NaN; its derivative NaN at ±∞.</summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SiluMatchesPyTorchAtInfiniteNaNAndLargeInputs(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        float[] xData = [float.PositiveInfinity, float.NegativeInfinity, float.NaN, 100f, -100f, 1e30f, -1e30f];
        using var x = device.FromArray(xData, xData.Length);
        using var y = device.Zeros(xData.Length);
        Ops.ActivationForward(Activation.Silu, x, y);
        using var dx = device.FromArray(Enumerable.Repeat(1f, xData.Length).ToArray(), xData.Length);
        Ops.ActivationBackward(Activation.Silu, x, y, dx, dx);

        // torch.nn.functional.silu and its gradient (dy = 1) on the same inputs.
        float[] torchY = [float.PositiveInfinity, float.NaN, float.NaN, 100f, -0f, 1e30f, -0f];
        float[] torchDx = [float.NaN, float.NaN, float.NaN, 1f, -0f, 1f, -0f];
        Assert.That(y.ToArray(), Is.EqualTo(torchY).Within(1e-30f), "forward");
        Assert.That(dx.ToArray(), Is.EqualTo(torchDx).Within(1e-30f), "backward");
    }

    /// <summary>
    /// Leaky ReLU where its comparison and product decide: at ±0 (the product, so −0.5 gives +0 at −0 and an infinite
    /// slope NaN), ±∞ and NaN, bit for bit as the float64 reference rounded, which is PyTorch's x &gt; 0 ? x : slope·x.
    /// </summary>
    [TestCaseSource(nameof(DevicesAndSlopes))]
    public void LeakyReluMatchesPyTorchAtZerosInfinitiesAndNaN(string deviceName, float slope)
    {
        var device = TestDevices.Get(deviceName);
        float[] xData = [float.PositiveInfinity, float.NegativeInfinity, float.NaN, 0f, -0f, 2f, -2f];
        using var x = device.FromArray(xData, xData.Length);
        using var y = device.Zeros(xData.Length);
        Ops.LeakyReluForward(x, y, slope);
        using var dx = device.FromArray(Enumerable.Repeat(1f, xData.Length).ToArray(), xData.Length);
        Ops.LeakyReluBackward(x, dx, dx, slope);

        AssertSameFloats(y.ToArray(), Array.ConvertAll(xData, v => (float)ReferenceActivation.LeakyRelu(v, slope)), $"forward, slope {slope}");
        AssertSameFloats(dx.ToArray(), Array.ConvertAll(xData, v => (float)ReferenceActivation.LeakyReluBackward(v, 1, slope)), $"backward, slope {slope}");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LeakyRelusOpsRefuseANaNSlopeAndTheGenericOpsRefuseLeakyRelu(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var x = device.FromArray([-1f, 2f], 2);
        using var y = device.Zeros(2);

        var forward = Assert.Throws<ArgumentException>(() => Ops.LeakyReluForward(x, y, float.NaN))!;
        var backward = Assert.Throws<ArgumentException>(() => Ops.LeakyReluBackward(x, y, y, float.NaN))!;
        var generic = Assert.Throws<ArgumentException>(() => Ops.ActivationForward(Activation.LeakyRelu, x, y))!;
        var genericBackward = Assert.Throws<ArgumentException>(() => Ops.ActivationBackward(Activation.LeakyRelu, x, y, y, y))!;

        Assert.That(forward.Message, Does.StartWith("LeakyReluForward: the negative slope is NaN"));
        Assert.That(backward.Message, Does.StartWith("LeakyReluBackward: the negative slope is NaN"));
        Assert.That(generic.Message, Does.StartWith("ActivationForward: LeakyRelu has a slope; run it with LeakyReluForward"));
        Assert.That(genericBackward.Message, Does.StartWith("ActivationBackward: LeakyRelu has a slope"));
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 0f, 0f }), "nothing written");
    }

    private static IEnumerable<TestCaseData> DevicesAndSlopes() =>
        from device in TestDevices.All
        from slope in new[] { 0.01f, -0.5f, 0f, 1.5f, float.PositiveInfinity }
        select new TestCaseData(device, slope);

    /// <summary>The same floats, bit for bit (so −0 is not +0), NaN for NaN.</summary>
    private static void AssertSameFloats(float[] actual, float[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            if (float.IsNaN(expected[i]))
            {
                Assert.That(actual[i], Is.NaN, $"{what} [{i}]");
            }
            else
            {
                Assert.That(BitConverter.SingleToInt32Bits(actual[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected[i])), $"{what} [{i}]: {actual[i]} for {expected[i]}");
            }
        }
    }

    // The activations whose backward reads the forward's input x.
    private static IEnumerable<TestCaseData> InputReadingDevices() =>
        from device in TestDevices.All
        from activation in new[] { Activation.Gelu, Activation.GeluTanh, Activation.Silu }
        select new TestCaseData(device, activation);

    [TestCaseSource(nameof(DevicesAndActivations))]
    public void BackwardMatchesTheReference(string deviceName, ActivationCase activation)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            // y is the forward output of x (rounded to float, as the layer saves it); relu gets exact zeros too.
            var xData = Uniform(n, 200 + n, -3f, 3f);
            var yData = Array.ConvertAll(xData, v => (float)activation.Reference(v));
            var dyData = Uniform(n, 300 + n);
            var expected = activation.ReferenceBackward(ToDouble(xData), ToDouble(yData), ToDouble(dyData));

            using var x = device.FromArray(xData, n);
            using var y = device.FromArray(yData, n);
            using var dy = device.FromArray(dyData, n);
            using var dx = device.Zeros(n);
            activation.Backward(x, y, dy, dx);
            AssertClose(dx.ToArray(), expected, BackwardAbs, BackwardRel, $"{activation} backward n={n}");

            activation.Backward(x, y, dy, dy);
            AssertClose(dy.ToArray(), expected, BackwardAbs, BackwardRel, $"{activation} backward in place n={n}");
        }
    }
}
