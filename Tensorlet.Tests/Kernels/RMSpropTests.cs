using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class RMSpropTests
{
    private const float LearningRate = 1e-3f;
    private const float Alpha = 0.99f;
    private const float Epsilon = 1e-8f;

    private static IEnumerable<TestCaseData> DevicesAndSettings()
    {
        foreach (var device in TestDevices.All)
        {
            yield return new TestCaseData(device, 0f, 0f, false);
            yield return new TestCaseData(device, 0.01f, 0f, false);
            yield return new TestCaseData(device, 0f, 0.9f, false);
            yield return new TestCaseData(device, 0f, 0f, true);
            yield return new TestCaseData(device, 0.01f, 0.9f, true);
        }
    }

    [TestCaseSource(nameof(DevicesAndSettings))]
    public void ThreeStepsMatchTheReference(string deviceName, float weightDecay, float momentum, bool centered)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            var p0 = Uniform(n, n, -1f, 1f);
            var p = ToDouble(p0);
            var s = new double[n];
            var b = new double[n];
            var a = new double[n];
            using var parameters = device.FromArray(p0, n);
            using var gradients = device.Zeros(n);
            using var st = device.Zeros(n);
            using var bt = device.Zeros(n);
            using var at = device.Zeros(n);
            for (int step = 1; step <= 3; step++)
            {
                var g = Gradients(n, step);
                gradients.CopyFrom(g);
                ReferenceRMSprop.Step(p, ToDouble(g), s, b, a, LearningRate, Alpha, Epsilon, weightDecay, momentum, centered);
                Ops.RMSpropStep(parameters, gradients, st, bt, at, LearningRate, Alpha, Epsilon, weightDecay, momentum, centered);
            }

            string what = $"n={n}, wd={weightDecay}, momentum={momentum}, centered={centered}";

            // s = α·s + (1 − α)·g·g sums positive terms, so its error is relative: three roundings a step, about 9u ≈ 6e-7
            // after three steps; 1e-6. The mean gradient's terms can cancel: 9u of a term ≤ 0.55 in size, 3e-8 absolute.
            // g/d is about 10 in size at most (1/√(1 − α)), with a relative error of a few u; the buffer sums ≤ 3 such
            // terms at μ = 0.9, within the fused kernels' 2e-6 + 2e-6·|b| (docs/design.md, Tolerances). A parameter
            // moves by lr times it, and rounds by u·|p| a step: 1e-8 + 2e-7·|p|.
            AssertClose(st.ToArray(), s, 1e-14, 1e-6, $"square average, {what}");
            AssertClose(at.ToArray(), centered ? a : new double[n], 3e-8, 1e-6, $"mean gradient, {what}");
            AssertClose(bt.ToArray(), momentum != 0f ? b : new double[n], 2e-6, 2e-6, $"momentum buffer, {what}");
            AssertClose(parameters.ToArray(), p, 1e-8, 2e-7, $"parameters, {what}");
            Assert.That(gradients.ToArray(), Is.EqualTo(Gradients(n, 3)), "the gradients are not modified");
        }
    }

    /// <summary>
    /// Gradients of 0.05 to 0.5 in size, of either sign. Near |g| = ε/√(1 − α), the update g/(√(1 − α)·|g| + ε) turns
    /// from linear to ±1/√(1 − α) and is ill-conditioned: the float rounding of g + wd·p alone (6e-10 at wd = 0.01)
    /// moves it by up to lr·6e-10/ε there, whatever the kernel. Sizes of at least 0.05 keep the comparison about the kernel.
    /// </summary>
    private static float[] Gradients(int n, int step)
        => Array.ConvertAll(Uniform(n, (10 * n) + step, -0.45f, 0.45f), g => g + (g < 0f ? -0.05f : 0.05f));

    private static IEnumerable<TestCaseData> DevicesAndTinyGradientCases()
    {
        foreach (var device in TestDevices.All)
        {
            yield return new TestCaseData(device, "centered_momentum", 1e-8f, 0.9f, true);
            yield return new TestCaseData(device, "plain_eps0", 0f, 0f, false);
            yield return new TestCaseData(device, "centered_eps0", 0f, 0f, true);
        }
    }

    /// <summary>
    /// Gradients of 1e-20 to 7e-20 (scripts/make_rmsprop_edge_fixtures.py), whose (1 − α)·g² is subnormal while the mean
    /// gradient stays normal: three steps stay finite and match torch.optim.RMSprop and the float64 reference.
    /// </summary>
    [TestCaseSource(nameof(DevicesAndTinyGradientCases))]
    public void TinyGradientsMatchPyTorchAndTheReference(string deviceName, string run, float epsilon, float momentum, bool centered)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/rmsprop_edges.safetensors"));
        var p0 = fixture["p0"].Data;
        var g = fixture["grad"].Data;
        int n = p0.Length;
        var p = ToDouble(p0);
        var s = new double[n];
        var b = new double[n];
        var a = new double[n];
        using var parameters = device.FromArray(p0, n);
        using var gradients = device.FromArray(g, n);
        using var st = device.Zeros(n);
        using var bt = device.Zeros(n);
        using var at = device.Zeros(n);

        // Float's subnormals are multiples of 2^−149 ≈ 1.4e-45, so s ≥ 1e-42 carries a relative rounding of up to 1e-3
        // a step where float64 has none (3e-45 absolute after three steps). With ε = 0, √s is the whole denominator: g/d,
        // about 10, moves by up to 0.5·3e-3 relative over three steps, a parameter by lr times that: 2e-4 against the
        // reference. torch rounds the same subnormals, and lands within an ulp or two of the kernel; 1e-6 leaves room for
        // a device that contracts to fused multiply-adds. With ε = 1e-8 the kernel flushes s to zero, which leaves d = ε
        // exactly (RMSpropCoefficients.SmallestFlushingEpsilon), so s may be anything below float's smallest normal.
        double squareAbs = epsilon == 0f ? 1e-44 : 1.2e-38, parameterAbs = epsilon == 0f ? 2e-4 : 1e-8;
        for (int step = 1; step <= 3; step++)
        {
            ReferenceRMSprop.Step(p, ToDouble(g), s, b, a, 0.01, Alpha, epsilon, 0, momentum, centered);
            Ops.RMSpropStep(parameters, gradients, st, bt, at, 0.01f, Alpha, epsilon, 0f, momentum, centered);
            string what = $"{run}, step {step}";
            float[] pt = parameters.ToArray(), sq = st.ToArray();
            Assert.That(pt.All(float.IsFinite), Is.True, $"finite parameters, {what}");
            AssertClose(pt, ToDouble(fixture[$"{run}.p{step}"].Data), Math.Min(parameterAbs, 1e-6), 2e-7, $"parameters against torch, {what}");
            AssertClose(pt, p, parameterAbs, 2e-7, $"parameters against the reference, {what}");
            AssertClose(sq, ToDouble(fixture[$"{run}.square_avg{step}"].Data), squareAbs, 0, $"square average against torch, {what}");
            AssertClose(sq, s, squareAbs, 0, $"square average against the reference, {what}");
            Assert.That(sq.All(v => v >= 0f), Is.True, $"s ≥ 0, {what}");
            if (centered)
            {
                AssertClose(at.ToArray(), ToDouble(fixture[$"{run}.grad_avg{step}"].Data), 0, 1e-6, $"mean gradient against torch, {what}");
                AssertClose(at.ToArray(), a, 0, 1e-6, $"mean gradient against the reference, {what}");
            }

            if (momentum != 0f)
            {
                AssertClose(bt.ToArray(), ToDouble(fixture[$"{run}.momentum_buffer{step}"].Data), 0, 2e-6, $"momentum buffer against torch, {what}");
                AssertClose(bt.ToArray(), b, 0, 2e-6, $"momentum buffer against the reference, {what}");
            }
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void TheFirstStepMovesEachParameterByTheLearningRateOverTheSquareRootOfOneMinusAlpha(string deviceName)
    {
        // At step 1, s = (1 − α)·g², so the update is lr·g/(√(1 − α)·|g| + ε) ≈ 10·lr·sign(g) at α = 0.99: an independent check of the formula.
        var device = TestDevices.Get(deviceName);
        float[] p0 = [1f, -2f, 0.5f, 3f];
        float[] g = [0.3f, -4f, 1e-3f, -0.02f];
        using var parameters = device.FromArray(p0, 4);
        using var gradients = device.FromArray(g, 4);
        using var s = device.Zeros(4);
        Ops.RMSpropStep(parameters, gradients, s, parameters, parameters, LearningRate, Alpha, Epsilon, 0f, 0f, centered: false);
        var expected = p0.Select((p, i) => p - (10 * LearningRate * Math.Sign(g[i]))).ToArray();
        Assert.That(parameters.ToArray(), Is.EqualTo(expected).Within(1e-5));
    }
}
