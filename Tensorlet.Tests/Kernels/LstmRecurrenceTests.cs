using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The cpu's fused LSTM recurrence (one gang of threads split by hidden units) gives exactly the floats of the
/// step-by-step path it replaces (a packed GEMM and the fused cell per step), whose correctness the reference,
/// finite-difference and PyTorch tests establish.
/// </summary>
public sealed unsafe class LstmRecurrenceTests
{
    [TestCaseSource(typeof(RecurrenceTestCases), nameof(RecurrenceTestCases.Cases))]
    public void ForwardEqualsTheStepByStepPathExactly(int steps, int batch, int hidden, bool hasInitialHidden, int threads)
    {
        var rng = new Random((steps * 1000) + (batch * 10) + hidden);
        float[] pre = Uniform(rng, steps * batch * 4 * hidden, 2), weight = Uniform(rng, 4 * hidden * hidden, 0.3f);
        float[] h0 = Uniform(rng, batch * hidden, 1), c0 = Uniform(rng, batch * hidden, 1);
        using var packed = CpuGemm.PackB(true, hidden, 4 * hidden, weight);
        using var byGate = CpuGemm.PackB(true, hidden, 4 * hidden, weight, groups: 4);

        var (stepGates, stepCells, stepHidden) = ((float[])pre.Clone(), new float[steps * batch * hidden], new float[steps * batch * hidden]);
        for (int t = 0; t < steps; t++)
        {
            var gates = stepGates.AsSpan(t * batch * 4 * hidden, batch * 4 * hidden);
            ReadOnlySpan<float> hPrev = t > 0 ? stepHidden.AsSpan((t - 1) * batch * hidden, batch * hidden) : h0;
            ReadOnlySpan<float> cPrev = t > 0 ? stepCells.AsSpan((t - 1) * batch * hidden, batch * hidden) : c0;
            if (t > 0 || hasInitialHidden)
            {
                CpuGemm.Gemm(false, batch, 1f, hPrev, packed, 1f, gates, threads);
            }

            CpuLstmCell.Forward(gates, cPrev, gates, stepCells.AsSpan(t * batch * hidden, batch * hidden), stepHidden.AsSpan(t * batch * hidden, batch * hidden), batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        var (fusedGates, fusedCells, fusedHidden) = ((float[])pre.Clone(), new float[steps * batch * hidden], new float[steps * batch * hidden]);
        fixed (float* g = fusedGates, c = fusedCells, h = fusedHidden, hInit = h0, cInit = c0)
        {
            CpuLstmRecurrence.Forward(g, c, h, hInit, cInit, hasInitialHidden, byGate, steps, batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        Assert.Multiple(() =>
        {
            Assert.That(fusedGates, Is.EqualTo(stepGates), "gates");
            Assert.That(fusedCells, Is.EqualTo(stepCells), "c");
            Assert.That(fusedHidden, Is.EqualTo(stepHidden), "h");
        });

        // Equal floats show only that the two paths agree; the float64 recurrence, from the same float32 inputs, checks
        // them on their own. Error: a float32 dot product of H ≤ 8·Nr terms of size ≤ 0.3 per gate (≲ 1e-6), carried
        // through ≤ 6 steps of a contracting cell: 1e-5 + 1e-5·|ref| holds it; a wrong gate or a dropped term does not.
        var (referenceCells, referenceHidden) = ReferenceRecurrence(pre, weight, h0, c0, hasInitialHidden, steps, batch, hidden);
        FusedKernelTestData.AssertClose(fusedCells, referenceCells, "c against the float64 recurrence", 1e-5, 1e-5);
        FusedKernelTestData.AssertClose(fusedHidden, referenceHidden, "h against the float64 recurrence", 1e-5, 1e-5);
    }

    // h_t, c_t = cell(pre_t + h_{t−1}·Wᵀ, c_{t−1}) in float64, with ReferenceLstmCell; h_{−1} = h0 only when given.
    private static (double[] Cells, double[] Hidden) ReferenceRecurrence(float[] pre, float[] weight, float[] h0, float[] c0, bool hasInitialHidden, int steps, int batch, int hidden)
    {
        int width = 4 * hidden;
        var cells = new double[steps * batch * hidden];
        var hiddens = new double[steps * batch * hidden];
        var hPrev = hasInitialHidden ? Array.ConvertAll(h0, v => (double)v) : new double[batch * hidden];
        var cPrev = Array.ConvertAll(c0, v => (double)v);
        var preStep = new double[batch * width];
        var gates = new double[batch * width];
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < width; j++)
                {
                    double sum = pre[(((t * batch) + b) * width) + j];
                    for (int k = 0; k < hidden; k++)
                    {
                        sum += hPrev[(b * hidden) + k] * weight[(j * hidden) + k];
                    }

                    preStep[(b * width) + j] = sum;
                }
            }

            var c = cells.AsSpan(t * batch * hidden, batch * hidden);
            var h = hiddens.AsSpan(t * batch * hidden, batch * hidden);
            Tensorlet.Kernels.Reference.ReferenceLstmCell.Forward(batch, hidden, preStep, cPrev, gates, c, h);
            hPrev = h.ToArray();
            cPrev = c.ToArray();
        }

        return (cells, hiddens);
    }

    [TestCaseSource(typeof(RecurrenceTestCases), nameof(RecurrenceTestCases.Cases))]
    public void BackwardEqualsTheStepByStepPathExactly(int steps, int batch, int hidden, bool hasInitialCell, int threads)
    {
        var rng = new Random((steps * 1000) + (batch * 10) + hidden + 1);
        float[] gates = Uniform(rng, steps * batch * 4 * hidden, 1), cells = Uniform(rng, steps * batch * hidden, 1.5f);
        float[] c0 = hasInitialCell ? Uniform(rng, batch * hidden, 1) : new float[batch * hidden];
        float[] dH = Uniform(rng, steps * batch * hidden, 1), weight = Uniform(rng, 4 * hidden * hidden, 0.3f);
        using var packed = CpuGemm.PackB(false, 4 * hidden, hidden, weight);

        var (stepDh, stepDc, stepDPre) = ((float[])dH.Clone(), new float[batch * hidden], new float[steps * batch * 4 * hidden]);
        for (int t = steps - 1; t >= 0; t--)
        {
            var dhT = stepDh.AsSpan(t * batch * hidden, batch * hidden);
            if (t < steps - 1)
            {
                CpuGemm.Gemm(false, batch, 1f, stepDPre.AsSpan((t + 1) * batch * 4 * hidden, batch * 4 * hidden), packed, 1f, dhT, threads);
            }

            ReadOnlySpan<float> cPrev = t > 0 ? cells.AsSpan((t - 1) * batch * hidden, batch * hidden) : c0;
            CpuLstmCell.Backward(
                gates.AsSpan(t * batch * 4 * hidden, batch * 4 * hidden), cells.AsSpan(t * batch * hidden, batch * hidden), cPrev, dhT, stepDc,
                stepDPre.AsSpan(t * batch * 4 * hidden, batch * 4 * hidden), stepDc, batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        var (fusedDh, fusedDc, fusedDPre) = ((float[])dH.Clone(), new float[batch * hidden], new float[steps * batch * 4 * hidden]);
        float[] fusedDBias = Enumerable.Repeat(float.NaN, 4 * hidden).ToArray();
        fixed (float* g = gates, c = cells, cInit = c0, dh = fusedDh, dc = fusedDc, dp = fusedDPre, db = fusedDBias)
        {
            CpuLstmRecurrence.Backward(g, c, cInit, dh, dc, dp, db, packed, steps, batch, hidden, threads, CpuKernelPlan.Machine.Width);
        }

        Assert.Multiple(() =>
        {
            Assert.That(fusedDPre, Is.EqualTo(stepDPre), "d(pre)");
            Assert.That(fusedDh, Is.EqualTo(stepDh), "dh with the recurrent terms");
            Assert.That(fusedDc, Is.EqualTo(stepDc), "dc carried to the initial state");
            RecurrenceBiasGradients.AssertColumnSums(fusedDBias, stepDPre, batch, steps, "dBias");
        });
    }

    [TestCase(2, 100)]
    [TestCase(100, 37)]
    public void TheBiasGradientIsTheSameFloatsForAnyThreadCountOrSplit(int slivers, int batch)
    {
        // The bias gradient sums panels of 8 rows, then the steps, then the panels in order, so neither the thread count
        // nor the split changes a float of it (nor of anything else).
        int hidden = slivers >= 100 ? slivers : slivers * GemmGeometry.Machine.Nr, steps = 4;
        var rng = new Random(hidden + batch);
        float[] gates = Uniform(rng, steps * batch * 4 * hidden, 1), cells = Uniform(rng, steps * batch * hidden, 1.5f), c0 = Uniform(rng, batch * hidden, 1);
        float[] dH = Uniform(rng, steps * batch * hidden, 1), weight = Uniform(rng, 4 * hidden * hidden, 0.3f);
        using var packed = CpuGemm.PackB(false, 4 * hidden, hidden, weight);
        Assert.That(CpuLstmRecurrence.SplitsByRows(packed, batch, 2), Is.True, "two threads split these rows");
        RecurrenceBiasGradients.AssertSameFloatsOnAnyThreadCount(
            threads =>
            {
                float[] dh = (float[])dH.Clone(), dc = new float[batch * hidden], dPre = new float[steps * batch * 4 * hidden], dBias = new float[4 * hidden];
                fixed (float* g = gates, c = cells, cInit = c0, pdh = dh, pdc = dc, pdp = dPre, pdb = dBias)
                {
                    CpuLstmRecurrence.Backward(g, c, cInit, pdh, pdc, pdp, pdb, packed, steps, batch, hidden, threads, CpuKernelPlan.Machine.Width);
                }

                return [dBias, dPre, dh, dc];
            },
            "dBias, d(pre), dh, dc");
    }

    [TestCase(64)]
    [TestCase(37)]
    public void AnLstmOnCpuAgreesWithTheStepByStepIlgpuPath(int hidden)
    {
        // cpu takes the fused recurrence (the wavefront on 2 threads or more) for any H, 37 ending each gate in part of a
        // sliver; ilgpu-cpu runs the steps one by one through its own kernels.
        var run = new LstmModelRun(vocabulary: 9, hidden: hidden, layers: 2, steps: 5, batch: 4, dataSeed: 11);
        var results = new[] { "cpu", "ilgpu-cpu" }.Select(name => run.Run(TestDevices.Get(name), modelSeed: 5)).ToList();

        Assert.That(results[0].Losses, Is.EqualTo(results[1].Losses).Within(1e-5f));
        foreach (var (name, gradient) in results[0].Gradients)
        {
            double scale = results[1].Gradients[name].Max(Math.Abs) + 1e-6;
            Assert.That(gradient.Zip(results[1].Gradients[name], (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-4 * scale), name);
        }
    }

}
