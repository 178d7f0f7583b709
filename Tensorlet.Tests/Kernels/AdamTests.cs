using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class AdamTests
{
    private const float LearningRate = 2e-3f;
    private const float Beta1 = 0.9f;
    private const float Beta2 = 0.999f;
    private const float Epsilon = 1e-8f;

    private static IEnumerable<TestCaseData> DevicesAndDecays()
    {
        foreach (var device in TestDevices.All)
        {
            yield return new TestCaseData(device, 0f);
            yield return new TestCaseData(device, 0.01f);
        }
    }

    [TestCaseSource(nameof(DevicesAndDecays))]
    public void ThreeStepsMatchTheReference(string deviceName, float weightDecay)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            var p0 = Uniform(n, n, -1f, 1f);
            var p = ToDouble(p0);
            var m = new double[n];
            var v = new double[n];
            using var parameters = device.FromArray(p0, n);
            using var gradients = device.Zeros(n);
            using var mt = device.Zeros(n);
            using var vt = device.Zeros(n);
            for (int step = 1; step <= 3; step++)
            {
                var g = Uniform(n, (10 * n) + step, -0.5f, 0.5f);
                gradients.CopyFrom(g);
                ReferenceAdam.Step(p, ToDouble(g), m, v, LearningRate, Beta1, Beta2, Epsilon, weightDecay, step);
                Ops.AdamStep(parameters, gradients, mt, vt, LearningRate, Beta1, Beta2, Epsilon, weightDecay, step);
            }

            // m = β1·m + (1 − β1)·g takes three float roundings per step, each ≤ u = 6e-8 of a term ≤ 0.05 in size
            // (|g| ≤ 0.5); the terms can cancel, so the bound is absolute: 3 steps × 3 roundings × u × 0.05 ≈ 3e-8.
            // v's terms are all positive, so its error is relative: about 9u ≈ 6e-7 after three steps; 1e-6.
            // A parameter moves by stepSize·m̂/(√v̂ + ε), whose error is ~1e-6 of an update ≤ 3·lr; with the rounding of
            // p (≤ u·|p| per step, three steps) that is below 2e-8 + 1.8e-7·|p|.
            AssertClose(mt.ToArray(), m, 3e-8, 1e-6, $"m, n={n}, wd={weightDecay}");
            AssertClose(vt.ToArray(), v, 1e-14, 1e-6, $"v, n={n}, wd={weightDecay}");
            AssertClose(parameters.ToArray(), p, 2e-8, 1.8e-7, $"parameters, n={n}, wd={weightDecay}");
            Assert.That(gradients.ToArray(), Is.EqualTo(Uniform(n, (10 * n) + 3, -0.5f, 0.5f)), "the gradients are not modified");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void TheFirstStepMovesEachParameterByTheLearningRateAgainstTheGradientSign(string deviceName)
    {
        // At step 1, m̂ = g and v̂ = g², so the update is lr·g/(|g| + ε) ≈ lr·sign(g): an independent check of the formula.
        var device = TestDevices.Get(deviceName);
        float[] p0 = [1f, -2f, 0.5f, 3f];
        float[] g = [0.3f, -4f, 1e-3f, -0.02f];
        using var parameters = device.FromArray(p0, 4);
        using var gradients = device.FromArray(g, 4);
        using var m = device.Zeros(4);
        using var v = device.Zeros(4);
        Ops.AdamStep(parameters, gradients, m, v, LearningRate, Beta1, Beta2, Epsilon, 0f, 1);
        var expected = p0.Select((p, i) => p - (LearningRate * Math.Sign(g[i]))).ToArray();
        Assert.That(parameters.ToArray(), Is.EqualTo(expected).Within(1e-6));
    }
}
