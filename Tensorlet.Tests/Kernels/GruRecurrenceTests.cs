using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The cpu's fused GRU recurrence (one gang of threads split by hidden units) gives exactly the floats of the
/// step-by-step path it replaces (a packed GEMM and the fused cell per step), whose correctness the reference,
/// finite-difference and PyTorch tests establish.
/// </summary>
public sealed unsafe class GruRecurrenceTests
{
    [TestCaseSource(typeof(RecurrenceTestCases), nameof(RecurrenceTestCases.Cases))]
    public void ForwardEqualsTheStepByStepPathExactly(int steps, int batch, int hidden, bool hasInitialHidden, int threads)
    {
        var rng = new Random((steps * 1000) + (batch * 10) + hidden);
        int wide = 3 * hidden;
        float[] gi = Uniform(rng, steps * batch * wide, 2), weight = Uniform(rng, wide * hidden, 0.3f);
        float[] ghBias = Uniform(rng, steps * batch * wide, 0.5f);
        float[] h0 = hasInitialHidden ? Uniform(rng, batch * hidden, 1) : new float[batch * hidden];
        using var packed = CpuGemm.PackB(true, hidden, wide, weight);
        using var byGate = CpuGemm.PackB(true, hidden, wide, weight, groups: 3);

        var (stepGi, stepGh, stepHidden) = ((float[])gi.Clone(), (float[])ghBias.Clone(), new float[steps * batch * hidden]);
        for (int t = 0; t < steps; t++)
        {
            var giT = stepGi.AsSpan(t * batch * wide, batch * wide);
            var ghT = stepGh.AsSpan(t * batch * wide, batch * wide);
            ReadOnlySpan<float> hPrev = t > 0 ? stepHidden.AsSpan((t - 1) * batch * hidden, batch * hidden) : h0;
            if (t > 0 || hasInitialHidden)
            {
                CpuGemm.Gemm(false, batch, 1f, hPrev, packed, 1f, ghT, threads);
            }

            CpuGruCell.Forward(giT, ghT, hPrev, giT, stepHidden.AsSpan(t * batch * hidden, batch * hidden), batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        var (fusedGi, fusedGh, fusedHidden) = ((float[])gi.Clone(), (float[])ghBias.Clone(), new float[steps * batch * hidden]);
        fixed (float* pGi = fusedGi, pGh = fusedGh, pH = fusedHidden, pH0 = h0)
        {
            CpuGruRecurrence.Forward(pGi, pGh, pH, pH0, hasInitialHidden, byGate, steps, batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        Assert.Multiple(() =>
        {
            Assert.That(fusedGi, Is.EqualTo(stepGi), "gates");
            Assert.That(fusedGh, Is.EqualTo(stepGh), "gh");
            Assert.That(fusedHidden, Is.EqualTo(stepHidden), "h");
        });
    }

    [TestCaseSource(typeof(RecurrenceTestCases), nameof(RecurrenceTestCases.Cases))]
    public void BackwardEqualsTheStepByStepPathExactly(int steps, int batch, int hidden, bool hasInitialHidden, int threads)
    {
        var rng = new Random((steps * 1000) + (batch * 10) + hidden + 1);
        int wide = 3 * hidden;
        float[] gates = Uniform(rng, steps * batch * wide, 1), gh = Uniform(rng, steps * batch * wide, 1.5f);
        float[] hidden0 = Uniform(rng, steps * batch * hidden, 1);
        float[] h0 = hasInitialHidden ? Uniform(rng, batch * hidden, 1) : new float[batch * hidden];
        float[] dH = Uniform(rng, steps * batch * hidden, 1), weight = Uniform(rng, wide * hidden, 0.3f);
        using var packed = CpuGemm.PackB(false, wide, hidden, weight);

        var (stepDh, stepCarry, stepDgi, stepDgh) = ((float[])dH.Clone(), new float[batch * hidden], new float[steps * batch * wide], new float[steps * batch * wide]);
        for (int t = steps - 1; t >= 0; t--)
        {
            var dhT = stepDh.AsSpan(t * batch * hidden, batch * hidden);
            if (t < steps - 1)
            {
                CpuGemm.Gemm(false, batch, 1f, stepDgh.AsSpan((t + 1) * batch * wide, batch * wide), packed, 1f, dhT, threads);
            }

            ReadOnlySpan<float> hPrev = t > 0 ? hidden0.AsSpan((t - 1) * batch * hidden, batch * hidden) : h0;
            CpuGruCell.Backward(
                gates.AsSpan(t * batch * wide, batch * wide), gh.AsSpan(t * batch * wide, batch * wide), hPrev, dhT, stepCarry,
                stepDgi.AsSpan(t * batch * wide, batch * wide), stepDgh.AsSpan(t * batch * wide, batch * wide), stepCarry, batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        var (fusedDh, fusedCarry, fusedDgi, fusedDgh) = ((float[])dH.Clone(), new float[batch * hidden], new float[steps * batch * wide], new float[steps * batch * wide]);
        float[] fusedBiasIh = Enumerable.Repeat(float.NaN, wide).ToArray(), fusedBiasHh = Enumerable.Repeat(float.NaN, wide).ToArray();
        fixed (float* pGates = gates, pGh = gh, pHidden = hidden0, pH0 = h0, pDh = fusedDh, pCarry = fusedCarry, pDgi = fusedDgi, pDgh = fusedDgh, pBiasIh = fusedBiasIh, pBiasHh = fusedBiasHh)
        {
            CpuGruRecurrence.Backward(pGates, pGh, pHidden, pH0, pDh, pCarry, pDgi, pDgh, pBiasIh, pBiasHh, packed, steps, batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        Assert.Multiple(() =>
        {
            Assert.That(fusedDgi, Is.EqualTo(stepDgi), "dgi");
            Assert.That(fusedDgh, Is.EqualTo(stepDgh), "dgh");
            Assert.That(fusedDh, Is.EqualTo(stepDh), "dh with the recurrent terms");
            Assert.That(fusedCarry, Is.EqualTo(stepCarry), "the direct carry to the initial state");
            RecurrenceBiasGradients.AssertColumnSums(fusedBiasIh, stepDgi, batch, steps, "dBiasIh");
            RecurrenceBiasGradients.AssertColumnSums(fusedBiasHh, stepDgh, batch, steps, "dBiasHh");
        });
    }

    [TestCase(2, 100)]
    [TestCase(100, 37)]
    public void TheBiasGradientsAreTheSameFloatsForAnyThreadCountOrSplit(int slivers, int batch)
    {
        int hidden = slivers >= 100 ? slivers : slivers * GemmGeometry.Machine.Nr, steps = 4, wide = 3 * hidden;
        var rng = new Random(hidden + batch);
        float[] gates = Uniform(rng, steps * batch * wide, 1), gh = Uniform(rng, steps * batch * wide, 1.5f);
        float[] hidden0 = Uniform(rng, steps * batch * hidden, 1), h0 = Uniform(rng, batch * hidden, 1);
        float[] dH = Uniform(rng, steps * batch * hidden, 1), weight = Uniform(rng, wide * hidden, 0.3f);
        using var packed = CpuGemm.PackB(false, wide, hidden, weight);
        Assert.That(CpuLstmRecurrence.SplitsByRows(packed, batch, 2), Is.True, "two threads split these rows");
        RecurrenceBiasGradients.AssertSameFloatsOnAnyThreadCount(
            threads =>
            {
                float[] dh = (float[])dH.Clone(), carry = new float[batch * hidden], dgi = new float[steps * batch * wide], dgh = new float[steps * batch * wide];
                float[] biasIh = new float[wide], biasHh = new float[wide];
                fixed (float* pGates = gates, pGh = gh, pHidden = hidden0, pH0 = h0, pDh = dh, pCarry = carry, pDgi = dgi, pDgh = dgh, pBiasIh = biasIh, pBiasHh = biasHh)
                {
                    CpuGruRecurrence.Backward(pGates, pGh, pHidden, pH0, pDh, pCarry, pDgi, pDgh, pBiasIh, pBiasHh, packed, steps, batch, hidden, threads, CpuKernelPlan.Machine.Width);
                }

                return [biasIh, biasHh, dgi, dgh, dh, carry];
            },
            "dBiasIh, dBiasHh, dgi, dgh, dh, carry");
    }

}
