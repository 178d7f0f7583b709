using ILGPU;
using ILGPU.Runtime;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Dev.IlgpuKernels.Gemm;

namespace Tensorlet.Dev.IlgpuKernels.Recurrence;

/// <summary>
/// Runs one LSTM layer's recurrence, forward then backward, on an accelerator with a <see cref="RecurrenceVariant"/>.
/// The buffers follow <c>IKernelBackend.TryLstmRecurrenceForward</c>: gates [T·B, 4H] hold the input preactivations
/// and receive the activated gates; cells and hidden [T·B, H]; h0 and c0 [B, H]; weightHh [4H, H]; dH [T·B, H] holds
/// dL/dh_t from above and receives the recurrent terms; dc [B, H] starts at 0; dPre [T·B, 4H] receives d(pre_t).
/// </summary>
internal sealed class RecurrenceRunner(GemmVariants gemm)
{
    private readonly IlgpuFusedKernels cells = new(gemm.Accelerator);
    private FusedStepsRecurrence? fused;
    private FusedStepsRecurrence? fusedHalfRows;

    /// <summary>Queues the forward and the backward recurrence with <paramref name="variant"/>.</summary>
    public void Run(
        RecurrenceVariant variant,
        ArrayView<float> gates,
        ArrayView<float> cellStates,
        ArrayView<float> hidden,
        ArrayView<float> h0,
        ArrayView<float> c0,
        ArrayView<float> weightHh,
        ArrayView<float> dH,
        ArrayView<float> dc,
        ArrayView<float> dPre,
        int steps,
        int batch,
        int hiddenSize)
    {
        if (variant == RecurrenceVariant.StepByStep)
        {
            StepByStep(gates, cellStates, hidden, h0, c0, weightHh, dH, dc, dPre, steps, batch, hiddenSize);
            return;
        }

        var recurrence = variant == RecurrenceVariant.FusedStepsHalfRows
            ? fusedHalfRows ??= new FusedStepsRecurrence(gemm, cells, halfRows: true)
            : fused ??= new FusedStepsRecurrence(gemm, cells);
        recurrence.Forward(gates, cellStates, hidden, h0, c0, true, weightHh, steps, batch, hiddenSize);
        recurrence.Backward(gates, cellStates, c0, dH, dc, dPre, weightHh, steps, batch, hiddenSize);
    }

    /// <summary>What the library's Lstm runs on an ILGPU device: per step the tiled GEMM, then the cell kernel.</summary>
    private void StepByStep(
        ArrayView<float> gates,
        ArrayView<float> cellStates,
        ArrayView<float> hidden,
        ArrayView<float> h0,
        ArrayView<float> c0,
        ArrayView<float> weightHh,
        ArrayView<float> dH,
        ArrayView<float> dc,
        ArrayView<float> dPre,
        int steps,
        int batch,
        int hiddenSize)
    {
        long gateStep = (long)batch * 4 * hiddenSize, cellStep = (long)batch * hiddenSize;
        for (int t = 0; t < steps; t++)
        {
            var gatesT = gates.SubView(t * gateStep, gateStep);
            var hPrev = t > 0 ? hidden.SubView((t - 1) * cellStep, cellStep) : h0;
            var cPrev = t > 0 ? cellStates.SubView((t - 1) * cellStep, cellStep) : c0;
            gemm.Library.Gemm(hPrev, false, weightHh, true, gatesT, batch, 4 * hiddenSize, hiddenSize, 1f, 1f);
            cells.LstmCellForward(gatesT, cPrev, gatesT, cellStates.SubView(t * cellStep, cellStep), hidden.SubView(t * cellStep, cellStep), batch, hiddenSize);
        }

        for (int t = steps - 1; t >= 0; t--)
        {
            var dHT = dH.SubView(t * cellStep, cellStep);
            if (t < steps - 1)
            {
                gemm.Library.Gemm(dPre.SubView((t + 1) * gateStep, gateStep), false, weightHh, false, dHT, batch, hiddenSize, 4 * hiddenSize, 1f, 1f);
            }

            var cPrev = t > 0 ? cellStates.SubView((t - 1) * cellStep, cellStep) : c0;
            cells.LstmCellBackward(gates.SubView(t * gateStep, gateStep), cellStates.SubView(t * cellStep, cellStep), cPrev, dHT, dc, dPre.SubView(t * gateStep, gateStep), dc, batch, hiddenSize);
        }
    }
}
