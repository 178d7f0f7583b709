using ILGPU;
using ILGPU.Runtime;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Recurrence;

/// <summary>
/// The LSTM recurrence of one layer on an ILGPU accelerator with fewer launches than the step-by-step loop
/// (<see cref="RecurrenceVariant.FusedSteps"/>): forward, <see cref="LstmStepForwardKernel"/> once per time step instead of
/// a GEMM and a cell; backward, the recurrent GEMM d(pre_{t+1})·W_hh split along k as <see cref="GemmSplitKPlan"/> plans it
/// for this accelerator, then <see cref="LstmStepBackwardKernel"/>, which adds the slices and runs the cell backward.
/// Host code only: it queues the launches on the default stream and returns.
/// </summary>
internal sealed class FusedStepsRecurrence
{
    private readonly Accelerator accelerator;
    private readonly GemmVariants gemm;
    private readonly IlgpuFusedKernels cells;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> stepForward;
    private readonly Action<Index1D, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> stepBackward;

    private readonly int forwardThreadsY;

    /// <summary>
    /// Compiles the two step kernels for the tile shape <paramref name="gemm"/> uses on this accelerator; with
    /// <paramref name="halfRows"/>, the forward step's GPU groups take 32 batch rows instead of 64 (<see cref="GemmTileGpuHalfRows"/>).
    /// </summary>
    public FusedStepsRecurrence(GemmVariants gemm, IlgpuFusedKernels cells, bool halfRows = false)
    {
        accelerator = gemm.Accelerator;
        this.gemm = gemm;
        this.cells = cells;
        (stepForward, forwardThreadsY) = (gemm.Library.UsesGpuTile, halfRows) switch
        {
            (true, false) => (accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(LstmStepForwardKernel.Run<GemmTileGpu>), default(GemmTileGpu).ThreadsY),
            (true, true) => (accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(LstmStepForwardKernel.Run<GemmTileGpuHalfRows>), default(GemmTileGpuHalfRows).ThreadsY),
            _ => (accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(LstmStepForwardKernel.Run<GemmTileCpu>), default(GemmTileCpu).ThreadsY),
        };
        stepBackward = accelerator.LoadAutoGroupedStreamKernel<
            Index1D, ArrayView<float>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(
            LstmStepBackwardKernel.Run);
    }

    /// <summary>
    /// Queues every time step of the forward recurrence. gates [T·B, 4H] holds the input preactivations and receives the
    /// activated gates; cells and hidden [T·B, H] receive c_t and h_t; h0 and c0 are [B, H] (h0 is not read unless
    /// <paramref name="hasInitialHidden"/>); weightHh is [4H, H].
    /// </summary>
    public void Forward(
        ArrayView<float> gates, ArrayView<float> cellStates, ArrayView<float> hidden, ArrayView<float> h0, ArrayView<float> c0, bool hasInitialHidden, ArrayView<float> weightHh, int steps, int batch, int hiddenSize)
    {
        long gateStep = (long)batch * 4 * hiddenSize;
        long cellStep = (long)batch * hiddenSize;
        int threadsX = gemm.Library.GroupThreadsX;
        int blockRows = forwardThreadsY * LstmStepForwardKernel.MicroTile;
        var config = new KernelConfig(
            new Index2D((hiddenSize + threadsX - 1) / threadsX, (batch + blockRows - 1) / blockRows),
            new Index2D(threadsX, forwardThreadsY));
        for (int t = 0; t < steps; t++)
        {
            var gatesT = gates.SubView(t * gateStep, gateStep);
            var cT = cellStates.SubView(t * cellStep, cellStep);
            var hT = hidden.SubView(t * cellStep, cellStep);
            var cPrev = t > 0 ? cellStates.SubView((t - 1) * cellStep, cellStep) : c0;
            if (t == 0 && !hasInitialHidden)
            {
                // h_{-1} = 0: no recurrent term, as the step-by-step path skips its GEMM.
                cells.LstmCellForward(gatesT, cPrev, gatesT, cT, hT, batch, hiddenSize);
                continue;
            }

            var hPrev = t > 0 ? hidden.SubView((t - 1) * cellStep, cellStep) : h0;
            stepForward(config, hPrev, weightHh, gatesT, cPrev, cT, hT, batch, hiddenSize);
        }
    }

    /// <summary>
    /// Queues every time step of the backward recurrence, from the saved gates and cells and c0. dH [T·B, H] holds dL/dh_t from
    /// above and receives the recurrent terms; dc [B, H] holds 0 and ends as dL/dc0; dPre [T·B, 4H] receives d(pre_t).
    /// </summary>
    public void Backward(
        ArrayView<float> gates, ArrayView<float> cellStates, ArrayView<float> c0, ArrayView<float> dH, ArrayView<float> dc, ArrayView<float> dPre, ArrayView<float> weightHh, int steps, int batch, int hiddenSize)
    {
        long gateStep = (long)batch * 4 * hiddenSize;
        long cellStep = (long)batch * hiddenSize;
        var recurrent = new GemmArguments(transposeA: false, transposeB: false, batch, hiddenSize, 4 * hiddenSize, alpha: 1f, beta: 1f);
        var plan = GemmSplitKPlan.For(batch, hiddenSize, 4 * hiddenSize, gemm.Library.TiledBlock, gemm.Library.TileDepth, accelerator.NumMultiprocessors);
        for (int t = steps - 1; t >= 0; t--)
        {
            var dHT = dH.SubView(t * cellStep, cellStep);

            // dh_t += d(pre_{t+1})·W_hh, left in slices for the step kernel to add; the last step has no such term.
            var partials = dHT;
            int slices = 0;
            if (t < steps - 1)
            {
                partials = gemm.TiledSlices(recurrent, dPre.SubView((t + 1) * gateStep, gateStep), weightHh, plan);
                slices = plan.Slices;
            }

            var cPrev = t > 0 ? cellStates.SubView((t - 1) * cellStep, cellStep) : c0;
            stepBackward(
                (int)cellStep,
                partials,
                slices,
                dHT,
                gates.SubView(t * gateStep, gateStep),
                cellStates.SubView(t * cellStep, cellStep),
                cPrev,
                dc,
                dPre.SubView(t * gateStep, gateStep),
                hiddenSize);
        }
    }
}
