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

    /// <summary>Always false: the LSTM runs its steps through <see cref="Gemm"/> and the cell kernels on ILGPU.</summary>
    public bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
        => false;

    /// <summary>Always false, as <see cref="TryLstmRecurrenceForward"/>.</summary>
    public bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor weightHh, int steps, int batch)
        => false;
}
