namespace Tensorlet.Backends.Ilgpu;

internal sealed partial class IlgpuBackend
{
    private IlgpuFusedKernels? fusedKernels;

    private IlgpuFusedKernels FusedKernels => fusedKernels ??= new IlgpuFusedKernels(Accelerator);

    public void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h)
        => FusedKernels.LstmCellForward(preactivations.View, cPrev.View, gates.View, c.View, h.View, cPrev.Rows, preactivations.Columns / 4);

    public void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev)
        => FusedKernels.LstmCellBackward(gates.View, c.View, cPrev.View, dh.View, dcNext.View, dPreactivations.View, dcPrev.View, c.Rows, gates.Columns / 4);

    /// <remarks>
    /// A target outside [0, V) cannot throw from a kernel: <see cref="Ops.SoftmaxCrossEntropy"/> rejects it before the
    /// call, and should one get here anyway, its row gets a NaN loss and a NaN gradient row.
    /// </remarks>
    public void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale)
        => FusedKernels.SoftmaxCrossEntropy(logits.View, targets.View, losses.View, dLogits.View, logits.Rows, logits.Columns, gradScale);

    public void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature)
        => FusedKernels.SoftmaxWithTemperature(logits.View, probabilities.View, logits.Rows, logits.Columns, temperature);

    /// <summary>How the LSTM's recurrence runs here; <see cref="IlgpuRecurrence.StepByStep"/> unless a benchmark or test picks another.</summary>
    internal IlgpuRecurrence Recurrence { get; set; } = IlgpuRecurrence.StepByStep;

    private IlgpuLstmRecurrence? lstmRecurrence;
    private IlgpuLstmRecurrence? lstmRecurrenceHalfRows;

    private IlgpuLstmRecurrence LstmRecurrence => Recurrence == IlgpuRecurrence.FusedStepsHalfRows
        ? lstmRecurrenceHalfRows ??= new IlgpuLstmRecurrence(GemmKernels, FusedKernels, halfRows: true)
        : lstmRecurrence ??= new IlgpuLstmRecurrence(GemmKernels, FusedKernels);

    /// <summary>
    /// With <see cref="IlgpuRecurrence.FusedSteps"/> or <see cref="IlgpuRecurrence.FusedStepsHalfRows"/>, the whole forward
    /// recurrence through <see cref="IlgpuLstmRecurrence"/>; otherwise false, and the LSTM runs its steps through Gemm and the cell kernels.
    /// </summary>
    public bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, GemmPackCache packCache, int steps, int batch)
    {
        if (Recurrence == IlgpuRecurrence.StepByStep)
        {
            return false;
        }

        LstmRecurrence.Forward(gates.View, cells.View, hidden.View, h0.View, c0.View, hasInitialHidden, weightHh.View, steps, batch, h0.Columns);
        return true;
    }

    /// <summary>The backward of <see cref="TryLstmRecurrenceForward"/>, under the same condition.</summary>
    public bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor weightHh, GemmPackCache packCache, int steps, int batch)
    {
        if (Recurrence == IlgpuRecurrence.StepByStep)
        {
            return false;
        }

        LstmRecurrence.Backward(gates.View, cells.View, c0.View, dH.View, dc.View, dPre.View, weightHh.View, steps, batch, c0.Columns);
        return true;
    }
}
