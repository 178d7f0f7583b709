using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class AdamTests
{
    private const float LearningRate = 2e-3f;
    private const float Beta1 = 0.9f;
    private const float Beta2 = 0.999f;
    private const float Epsilon = 1e-8f;

    private static IEnumerable<TestCaseData> DevicesDecaysAndAmsgrad()
    {
        foreach (var device in TestDevices.All)
        {
            foreach (bool amsgrad in new[] { false, true })
            {
                yield return new TestCaseData(device, 0f, amsgrad);
                yield return new TestCaseData(device, 0.01f, amsgrad);
            }
        }
    }

    /// <summary>
    /// Three steps against the float64 reference at lengths that cover every CPU register width, a tail and the threaded
    /// split. With amsgrad, steps 2 and 3 take gradients 100 times smaller than step 1's, so that v falls below its
    /// running maximum nearly everywhere and the maximum, not v, divides.
    /// </summary>
    [TestCaseSource(nameof(DevicesDecaysAndAmsgrad))]
    public void ThreeStepsMatchTheReference(string deviceName, float weightDecay, bool amsgrad)
    {
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName))
        {
            var p0 = Uniform(n, n, -1f, 1f);
            var p = ToDouble(p0);
            var m = new double[n];
            var v = new double[n];
            var vMax = new double[n];
            using var parameters = device.FromArray(p0, n);
            using var gradients = device.Zeros(n);
            using var mt = device.Zeros(n);
            using var vt = device.Zeros(n);
            using var vMaxT = device.Zeros(n);
            float[] g = [];
            for (int step = 1; step <= 3; step++)
            {
                float scale = amsgrad && step > 1 ? 0.01f : 1f;
                g = Uniform(n, (10 * n) + step, -0.5f * scale, 0.5f * scale);
                gradients.CopyFrom(g);
                ReferenceAdam.Step(p, ToDouble(g), m, v, vMax, LearningRate, Beta1, Beta2, Epsilon, weightDecay, amsgrad, step);
                Ops.AdamStep(parameters, gradients, mt, vt, vMaxT, LearningRate, Beta1, Beta2, Epsilon, weightDecay, amsgrad, step);
            }

            // m = β1·m + (1 − β1)·g takes three float roundings per step, each ≤ u = 6e-8 of a term ≤ 0.05 in size
            // (|g| ≤ 0.5); the terms can cancel, so the bound is absolute: 3 steps × 3 roundings × u × 0.05 ≈ 3e-8.
            // v's terms are all positive, so its error is relative: about 9u ≈ 6e-7 after three steps; 1e-6. The maximum
            // is one of the v's, exactly. A parameter moves by stepSize·m̂/(√v̂ + ε), whose error is ~1e-6 of an update
            // ≤ 3·lr; with the rounding of p (≤ u·|p| per step, three steps) that is below 2e-8 + 1.8e-7·|p|.
            string what = $"n={n}, wd={weightDecay}, amsgrad={amsgrad}";
            AssertClose(mt.ToArray(), m, 3e-8, 1e-6, $"m, {what}");
            AssertClose(vt.ToArray(), v, 1e-14, 1e-6, $"v, {what}");
            AssertClose(parameters.ToArray(), p, 2e-8, 1.8e-7, $"parameters, {what}");
            Assert.That(gradients.ToArray(), Is.EqualTo(g), "the gradients are not modified");
            if (amsgrad)
            {
                AssertClose(vMaxT.ToArray(), vMax, 1e-14, 1e-6, $"max of v, {what}");
                Assert.That(Enumerable.Range(0, n).Count(i => vMax[i] > v[i]), Is.AtLeast(n / 2), $"the maximum is above v at half the elements or more, {what}");
            }
            else
            {
                Assert.That(vMaxT.ToArray(), Is.All.EqualTo(0f), $"without amsgrad the maximum is not touched, {what}");
            }
        }
    }

    /// <summary>
    /// Four steps of torch.optim.Adam and AdamW (lr 0.1, PyTorch 1.13's values from scripts/make_adam_overflow_fixtures.py)
    /// from [1, −0.5, 0.25], repeated over 39 elements (every CPU register width and a tail), where g² overflows float but
    /// (1 − β2)·g·g, rounded in that order as torch's addcmul_ does, does not: step 1's g = 1e21 sends v to +∞ (the weight
    /// then stays), step 2's g = 1e20 gives v = 1.0000001e37 and not +∞, and the weight goes on moving as torch's does.
    /// β2 = 0.999f makes 1 − β2 differ from torch's float64 0.001 by 1.3e-5 of it, so the values are held to 2e-5 relative.
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AGradientWhoseSquareOverflowsButNotItsShareOfTheMeanMatchesPyTorch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/adam_overflow.safetensors"));
        var steps = fixture.Get("grad", 4, 3).Data;
        foreach (bool decoupled in new[] { false, true })
        {
            string run = decoupled ? "adamw" : "adam";
            using var parameters = new ParameterCollection();
            parameters.Add("w", [39], _ => 0f);
            parameters.Build(device, seed: 0);
            parameters.Values.CopyFrom(Repeated(fixture.Get("p0", 3).Data));
            using Optimizer optimizer = decoupled ? new AdamW(parameters, 0.1f) : new Adam(parameters, 0.1f);
            for (int step = 1; step <= 4; step++)
            {
                parameters.Gradients.CopyFrom(Repeated(steps[((step - 1) * 3)..(step * 3)]));
                optimizer.Step();
                if (step is 2 or 4)
                {
                    var state = optimizer is AdamW adamW ? adamW.SaveState() : ((Adam)optimizer).SaveState();
                    string what = $"{optimizer.GetType().Name} after step {step}";
                    Assert.That(state.SecondMoment, Is.EqualTo(Repeated(fixture.Get($"{run}.exp_avg_sq{step}", 3).Data)).Within(2e-3).Percent, $"exp_avg_sq, {what}");
                    Assert.That(parameters.Values.ToArray(), Is.EqualTo(Repeated(fixture.Get($"{run}.p{step}", 3).Data)).Within(2e-3).Percent, $"weights, {what}");
                }
            }
        }

        static float[] Repeated(float[] three) => [.. Enumerable.Range(0, 39).Select(i => three[i % 3])];
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
        Ops.AdamStep(parameters, gradients, m, v, parameters, LearningRate, Beta1, Beta2, Epsilon, 0f, amsgrad: false, 1);
        var expected = p0.Select((p, i) => p - (LearningRate * Math.Sign(g[i]))).ToArray();
        Assert.That(parameters.ToArray(), Is.EqualTo(expected).Within(1e-6));
    }
}
