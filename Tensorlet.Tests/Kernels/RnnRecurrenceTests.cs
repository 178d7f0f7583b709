using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The cpu's fused RNN recurrence (one gang of threads split by hidden units or by batch rows) gives exactly the floats
/// of the step-by-step path it replaces (a packed GEMM and the activation per step), for tanh and relu, whose
/// correctness the reference, finite-difference and PyTorch tests establish.
/// </summary>
public sealed unsafe class RnnRecurrenceTests
{
    [TestCaseSource(typeof(RecurrenceTestCases), nameof(RecurrenceTestCases.RnnCases))]
    public void ForwardEqualsTheStepByStepPathExactly(int steps, int batch, int hidden, bool hasInitialHidden, int threads, Activation activation)
    {
        var rng = new Random((steps * 1000) + (batch * 10) + hidden);
        var width = CpuKernelPlan.Machine.Width;
        float[] pre = Uniform(rng, steps * batch * hidden, 2), weight = Uniform(rng, hidden * hidden, 0.3f);
        float[] h0 = hasInitialHidden ? Uniform(rng, batch * hidden, 1) : new float[batch * hidden];
        using var packed = CpuGemm.PackB(true, hidden, hidden, weight);

        var (stepPre, stepHidden) = ((float[])pre.Clone(), new float[steps * batch * hidden]);
        for (int t = 0; t < steps; t++)
        {
            var preT = stepPre.AsSpan(t * batch * hidden, batch * hidden);
            ReadOnlySpan<float> hPrev = t > 0 ? stepHidden.AsSpan((t - 1) * batch * hidden, batch * hidden) : h0;
            if (t > 0 || hasInitialHidden)
            {
                CpuGemm.Gemm(false, batch, 1f, hPrev, packed, 1f, preT, threads);
            }

            CpuActivation.Forward(activation, preT, stepHidden.AsSpan(t * batch * hidden, batch * hidden), threads, width);
        }

        var (fusedPre, fusedHidden) = ((float[])pre.Clone(), new float[steps * batch * hidden]);
        fixed (float* p = fusedPre, h = fusedHidden, hInit = h0)
        {
            CpuRnnRecurrence.Forward(p, h, hInit, hasInitialHidden, packed, steps, batch, hidden, activation, threads, width);
        }

        Assert.Multiple(() =>
        {
            Assert.That(fusedPre, Is.EqualTo(stepPre), "pre");
            Assert.That(fusedHidden, Is.EqualTo(stepHidden), "h");
        });
    }

    [TestCaseSource(typeof(RecurrenceTestCases), nameof(RecurrenceTestCases.RnnCases))]
    public void BackwardEqualsTheStepByStepPathExactly(int steps, int batch, int hidden, bool hasInitialHidden, int threads, Activation activation)
    {
        // hasInitialHidden changes nothing backward (h0 is not read); the seed differs with it all the same.
        var rng = new Random((steps * 1000) + (batch * 10) + hidden + (hasInitialHidden ? 2 : 1));
        var width = CpuKernelPlan.Machine.Width;
        float[] hiddenSteps = Activated(activation, Uniform(rng, steps * batch * hidden, 1));
        float[] dH = Uniform(rng, steps * batch * hidden, 1), weight = Uniform(rng, hidden * hidden, 0.3f);
        using var packed = CpuGemm.PackB(false, hidden, hidden, weight);

        var (stepDh, stepDPre) = ((float[])dH.Clone(), new float[steps * batch * hidden]);
        for (int t = steps - 1; t >= 0; t--)
        {
            var dhT = stepDh.AsSpan(t * batch * hidden, batch * hidden);
            var dPreT = stepDPre.AsSpan(t * batch * hidden, batch * hidden);
            if (t < steps - 1)
            {
                CpuGemm.Gemm(false, batch, 1f, stepDPre.AsSpan((t + 1) * batch * hidden, batch * hidden), packed, 1f, dhT, threads);
            }

            var hT = hiddenSteps.AsSpan(t * batch * hidden, batch * hidden);
            CpuActivation.Backward(activation, hT, hT, dhT, dPreT, threads, width);
        }

        var (fusedDh, fusedDPre) = ((float[])dH.Clone(), new float[steps * batch * hidden]);
        float[] fusedBias = Enumerable.Repeat(float.NaN, hidden).ToArray();
        fixed (float* h = hiddenSteps, dh = fusedDh, dp = fusedDPre, db = fusedBias)
        {
            CpuRnnRecurrence.Backward(h, dh, dp, db, packed, steps, batch, hidden, activation, threads, width);
        }

        Assert.Multiple(() =>
        {
            Assert.That(fusedDPre, Is.EqualTo(stepDPre), "d(pre)");
            Assert.That(fusedDh, Is.EqualTo(stepDh), "dh with the recurrent terms");
            RecurrenceBiasGradients.AssertColumnSums(fusedBias, stepDPre, batch, steps, "dBias");
        });
    }

    [TestCase(2, 100)]
    [TestCase(100, 37)]
    public void TheBiasGradientIsTheSameFloatsForAnyThreadCountOrSplit(int slivers, int batch)
    {
        int hidden = slivers >= 100 ? slivers : slivers * GemmGeometry.Machine.Nr, steps = 4;
        var rng = new Random(hidden + batch);
        float[] hiddenSteps = Uniform(rng, steps * batch * hidden, 1), dH = Uniform(rng, steps * batch * hidden, 1), weight = Uniform(rng, hidden * hidden, 0.3f);
        using var packed = CpuGemm.PackB(false, hidden, hidden, weight);
        Assert.That(CpuLstmRecurrence.SplitsByRows(packed, batch, 2), Is.True, "two threads split these rows");
        RecurrenceBiasGradients.AssertSameFloatsOnAnyThreadCount(
            threads =>
            {
                float[] dh = (float[])dH.Clone(), dPre = new float[steps * batch * hidden], dBias = new float[hidden];
                fixed (float* h = hiddenSteps, pdh = dh, pdp = dPre, pdb = dBias)
                {
                    CpuRnnRecurrence.Backward(h, pdh, pdp, pdb, packed, steps, batch, hidden, Activation.Tanh, threads, CpuKernelPlan.Machine.Width);
                }

                return [dBias, dPre, dh];
            },
            "dBias, d(pre), dh");
    }

    [TestCase(Activation.Sigmoid)]
    [TestCase(Activation.LeakyRelu)]
    public void AnActivationNnRnnLacksIsRefusedByName(Activation activation)
    {
        using var packed = CpuGemm.PackB(true, 4, 4, new float[16]);
        float[] pre = new float[8], hidden = new float[8], h0 = new float[8];
        var error = Assert.Throws<ArgumentException>(() =>
        {
            fixed (float* p = pre, h = hidden, hInit = h0)
            {
                CpuRnnRecurrence.Forward(p, h, hInit, false, packed, 2, 1, 4, activation, 1, CpuKernelPlan.Machine.Width);
            }
        });
        Assert.That(error!.Message, Does.Contain(activation.ToString()));
        Assert.That(pre, Is.All.Zero, "nothing is written");

        // Ops refuses it before any device sees it, naming the op and the activation.
        var device = TestDevices.Get("cpu");
        using var preT = device.Zeros(2, 4);
        using var hiddenT = device.Zeros(2, 4);
        using var h0T = device.Zeros(1, 4);
        using var weightT = device.Zeros(4, 4);
        var opsError = Assert.Throws<ArgumentException>(() => Ops.TryRnnRecurrenceForward(preT, hiddenT, h0T, false, weightT, activation, 2, 1));
        Assert.That(opsError!.Message, Does.Contain(nameof(Ops.TryRnnRecurrenceForward)).And.Contain(activation.ToString()));
    }

    [TestCase(64)]
    [TestCase(37)]
    public void AnRnnOnCpuAgreesWithTheStepByStepIlgpuPath(int hidden)
    {
        // cpu takes the fused recurrence (the wavefront on 2 threads or more) for any H, 37 ending the gate in part of a
        // sliver; ilgpu-cpu runs the steps one by one through its own kernels.
        foreach (var nonlinearity in new[] { RnnNonlinearity.Tanh, RnnNonlinearity.Relu })
        {
            var results = new[] { "cpu", "ilgpu-cpu" }.Select(name => TwoLayerRnn(TestDevices.Get(name), nonlinearity, hidden)).ToList();
            foreach (var (name, values) in results[0])
            {
                double scale = results[1][name].Max(Math.Abs) + 1e-6;
                Assert.That(values.Zip(results[1][name], (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-4 * scale), $"{nonlinearity}: {name}");
            }
        }
    }

    // h = act(h) over a random h: a tanh h is in (−1, 1), a relu h is 0 where the unit is off.
    private static float[] Activated(Activation activation, float[] values) =>
        activation == Activation.Relu ? [.. values.Select(v => Math.Max(v, 0f))] : [.. values.Select(MathF.Tanh)];

    // The output and every gradient of a two-layer RNN, from one forward and backward in training on dense input.
    private static Dictionary<string, float[]> TwoLayerRnn(Device device, RnnNonlinearity nonlinearity, int hidden)
    {
        const int input = 5, steps = 5, batch = 4;
        using var rnn = new Rnn(input, hidden, 2, nonlinearity);
        rnn.Build(device, seed: 5);
        rnn.Train();
        var rng = new Random(11);
        using var x = device.FromArray([.. Enumerable.Range(0, steps * batch * input).Select(_ => rng.NextSingle() - 0.5f)], steps, batch, input);
        using var dy = device.FromArray([.. Enumerable.Range(0, steps * batch * hidden).Select(_ => rng.NextSingle() - 0.5f)], steps, batch, hidden);
        var results = new Dictionary<string, float[]> { ["output"] = rnn.Forward(x).ToArray() };
        results["input gradient"] = rnn.Backward(dy)!.ToArray();
        foreach (var p in rnn.Parameters.Parameters)
        {
            results[p.Name] = p.Gradient.ToArray();
        }

        return results;
    }
}
