using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The ILGPU fused-steps recurrence (<see cref="IlgpuRecurrence.FusedSteps"/>: one launch per forward step, a split-k GEMM
/// and one launch per backward step) against the step-by-step path it replaces, whose correctness the reference,
/// finite-difference and PyTorch tests establish: a whole LSTM model on each ILGPU device, and the kernels alone on a CPU
/// accelerator built with the GPU's 256-thread groups, with k split in two.
/// </summary>
public sealed class IlgpuLstmRecurrenceTests
{
    /// <summary>Each ILGPU device, with and without an initial state (training starts from none: its first step has no GEMM).</summary>
    public static IEnumerable<TestCaseData> DevicesAndInitialStates() =>
        from device in TestDevices.Ilgpu
        from initial in new[] { true, false }
        select new TestCaseData(device, initial).SetArgDisplayNames(device, initial ? "initial state" : "zero state");

    /// <summary>
    /// Two layers, H = 10 and B = 18: hidden units and batch rows both end in a partial group of the CPU tile (4 units,
    /// 16 rows per group). Losses and every parameter gradient must agree with the step-by-step path.
    /// </summary>
    [TestCaseSource(nameof(DevicesAndInitialStates))]
    public void AnLstmModelGivesTheStepByStepLossesAndGradients(string deviceName, bool hasInitialState)
    {
        var device = TestDevices.Get(deviceName);
        var backend = (IlgpuBackend)device.Backend;
        var run = new LstmModelRun(vocabulary: 7, hidden: 10, layers: 2, steps: 4, batch: 18, dataSeed: 17);
        var results = new List<(float[] Losses, Dictionary<string, float[]> Gradients)>();
        var previous = backend.Recurrence;
        try
        {
            foreach (var recurrence in new[] { IlgpuRecurrence.StepByStep, IlgpuRecurrence.FusedSteps, IlgpuRecurrence.FusedStepsHalfRows })
            {
                backend.Recurrence = recurrence;
                results.Add(run.Run(device, modelSeed: 3, hasInitialState));
            }
        }
        finally
        {
            backend.Recurrence = previous;
        }

        foreach (var fused in results.Skip(1))
        {
            Assert.That(fused.Losses, Is.EqualTo(results[0].Losses).Within(1e-6f), "losses");
            foreach (var (name, gradient) in results[0].Gradients)
            {
                AssertClose(fused.Gradients[name], gradient, name);
            }
        }
    }

    /// <summary>
    /// The kernels on a CPU accelerator with 256-thread groups and 2 multiprocessors, the GPU tile: 64 batch rows (32 with
    /// half rows) and 16 units per group, so B = 70 and H = 40 leave partial groups both ways, and the backward GEMM
    /// (k = 4H = 160, two groups) is split in two slices. Against Tiled GEMMs and the cell kernels step by step on the same accelerator.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void TheGpuTileShapeGivesTheStepByStepResultsOnA256ThreadCpuAccelerator(bool halfRows)
    {
        const int steps = 3, batch = 70, hidden = 40;
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 2)).EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        using var gemm = new IlgpuGemmKernels(accelerator);
        var cells = new IlgpuFusedKernels(accelerator);
        var recurrence = new IlgpuLstmRecurrence(gemm, cells, halfRows);
        var plan = GemmSplitKPlan.For(batch, hidden, 4 * hidden, gemm.TiledBlock, gemm.TileDepth, accelerator.NumMultiprocessors);
        Assert.That((gemm.UsesGpuTile, plan.Slices), Is.EqualTo((true, 2)), "the GPU tile, with the backward GEMM split in two");

        var rng = new Random(5);
        float[] pre = Uniform(rng, steps * batch * 4 * hidden, 2), weight = Uniform(rng, 4 * hidden * hidden, 0.3f);
        float[] h0 = Uniform(rng, batch * hidden, 1), c0 = Uniform(rng, batch * hidden, 1), dHFromAbove = Uniform(rng, steps * batch * hidden, 1);
        int gateStep = batch * 4 * hidden, cellStep = batch * hidden;
        var results = new List<float[][]>();
        foreach (bool fused in new[] { false, true })
        {
            using var gates = accelerator.Allocate1D(pre);
            using var cellStates = accelerator.Allocate1D<float>(steps * cellStep);
            using var hiddenStates = accelerator.Allocate1D<float>(steps * cellStep);
            using var h0Buffer = accelerator.Allocate1D(h0);
            using var c0Buffer = accelerator.Allocate1D(c0);
            using var weightBuffer = accelerator.Allocate1D(weight);
            using var dH = accelerator.Allocate1D(dHFromAbove);
            using var dc = accelerator.Allocate1D(new float[cellStep]); // dL/dc_T = 0; Allocate1D alone does not clear
            using var dPre = accelerator.Allocate1D<float>(steps * gateStep);
            if (fused)
            {
                recurrence.Forward(gates.View, cellStates.View, hiddenStates.View, h0Buffer.View, c0Buffer.View, true, weightBuffer.View, steps, batch, hidden);
                recurrence.Backward(gates.View, cellStates.View, c0Buffer.View, dH.View, dc.View, dPre.View, weightBuffer.View, steps, batch, hidden);
            }
            else
            {
                // What Lstm runs step by step on an ILGPU device.
                for (int t = 0; t < steps; t++)
                {
                    var gatesT = gates.View.SubView(t * gateStep, gateStep);
                    var hPrev = t > 0 ? hiddenStates.View.SubView((t - 1) * cellStep, cellStep) : h0Buffer.View;
                    var cPrev = t > 0 ? cellStates.View.SubView((t - 1) * cellStep, cellStep) : c0Buffer.View;
                    gemm.Gemm(IlgpuGemmVariant.Tiled, hPrev, false, weightBuffer.View, true, gatesT, batch, 4 * hidden, hidden, 1f, 1f);
                    cells.LstmCellForward(gatesT, cPrev, gatesT, cellStates.View.SubView(t * cellStep, cellStep), hiddenStates.View.SubView(t * cellStep, cellStep), batch, hidden);
                }

                for (int t = steps - 1; t >= 0; t--)
                {
                    var dHT = dH.View.SubView(t * cellStep, cellStep);
                    if (t < steps - 1)
                    {
                        gemm.Gemm(IlgpuGemmVariant.Tiled, dPre.View.SubView((t + 1) * gateStep, gateStep), false, weightBuffer.View, false, dHT, batch, hidden, 4 * hidden, 1f, 1f);
                    }

                    var cPrev = t > 0 ? cellStates.View.SubView((t - 1) * cellStep, cellStep) : c0Buffer.View;
                    cells.LstmCellBackward(gates.View.SubView(t * gateStep, gateStep), cellStates.View.SubView(t * cellStep, cellStep), cPrev, dHT, dc.View, dPre.View.SubView(t * gateStep, gateStep), dc.View, batch, hidden);
                }
            }

            results.Add([gates.GetAsArray1D(), cellStates.GetAsArray1D(), hiddenStates.GetAsArray1D(), dH.GetAsArray1D(), dc.GetAsArray1D(), dPre.GetAsArray1D()]);
        }

        string[] names = ["gates", "c", "h", "dh with the recurrent terms", "dc0", "d(pre)"];
        for (int i = 0; i < names.Length; i++)
        {
            AssertClose(results[1][i], results[0][i], names[i]);
        }
    }

    /// <summary>
    /// Element by element within 1e-5 of the larger magnitude: the forward adds the same products in the same order, and
    /// the backward's split GEMM only regroups a sum of 4H terms, a few float32 roundings; a wrong index is O(1) off.
    /// </summary>
    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double scale = Math.Max(1e-3, expected.Max(Math.Abs));
        int worst = 0;
        for (int i = 1; i < actual.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= Math.Abs(actual[worst] - expected[worst])))
            {
                worst = i;
            }
        }

        double error = Math.Abs(actual[worst] - expected[worst]);
        Assert.That(error, Is.LessThanOrEqualTo(1e-5 * scale), $"{what}[{worst}] = {actual[worst]}, expected {expected[worst]}");
    }

    private static float[] Uniform(Random rng, int n, float scale) =>
        Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2) - 1) * scale).ToArray();
}
