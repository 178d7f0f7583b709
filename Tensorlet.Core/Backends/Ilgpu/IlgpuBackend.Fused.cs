using ILGPU;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Backends.Ilgpu;

internal sealed partial class IlgpuBackend
{
    private IlgpuFusedKernels? fusedKernels;

    private IlgpuFusedKernels FusedKernels => fusedKernels ??= new IlgpuFusedKernels(Accelerator);

    public void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h)
        => FusedKernels.LstmCellForward(preactivations.View, cPrev.View, gates.View, c.View, h.View, cPrev.Rows, preactivations.Columns / 4);

    public void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev)
        => FusedKernels.LstmCellBackward(gates.View, c.View, cPrev.View, dh.View, dcNext.View, dPreactivations.View, dcPrev.View, c.Rows, gates.Columns / 4);

    public void GruCellForward(Tensor gi, Tensor gh, Tensor hPrev, Tensor gates, Tensor h)
        => FusedKernels.GruCellForward(gi.View, gh.View, hPrev.View, gates.View, h.View, hPrev.Rows, hPrev.Columns);

    public void GruCellBackward(Tensor gates, Tensor gh, Tensor hPrev, Tensor dh, Tensor dhNext, Tensor dgi, Tensor dgh, Tensor dhPrev)
        => FusedKernels.GruCellBackward(gates.View, gh.View, hPrev.View, dh.View, dhNext.View, dgi.View, dgh.View, dhPrev.View, hPrev.Rows, hPrev.Columns);

    /// <summary>Always false: the GRU runs its steps through Gemm and the cell kernels on ILGPU devices.</summary>
    public bool TryGruRecurrenceForward(Tensor gi, Tensor gh, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
        => false;

    /// <summary>Always false, as <see cref="TryGruRecurrenceForward"/>.</summary>
    public bool TryGruRecurrenceBackward(Tensor gates, Tensor gh, Tensor hidden, Tensor h0, Tensor dH, Tensor dhCarry, Tensor dgi, Tensor dgh, Tensor dBiasIh, Tensor dBiasHh, Tensor weightHh, int steps, int batch)
        => false;

    /// <remarks>
    /// A target outside [0, V) cannot throw from a kernel:
    /// <see cref="Ops.SoftmaxCrossEntropy(Tensor, IndexTensor, Tensor, Tensor, float, int?)"/> rejects it before the
    /// call, and should one get here anyway, its row gets a NaN loss and a NaN gradient row.
    /// </remarks>
    public void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale, int? ignoreIndex)
        => FusedKernels.SoftmaxCrossEntropy(logits.View, targets.View, losses.View, dLogits.View, logits.Rows, logits.Columns, gradScale, ignoreIndex);

    public void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature)
        => FusedKernels.SoftmaxWithTemperature(logits.View, probabilities.View, logits.Rows, logits.Columns, temperature);

    public void LogSoftmax(Tensor x, Tensor y)
        => FusedKernels.LogSoftmax(x.View, y.View, x.Rows, x.Columns);

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
        => FusedKernels.SoftmaxBackward(y.View, dy.View, dx.View, y.Rows, y.Columns);

    public void LogSoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
        => FusedKernels.LogSoftmaxBackward(y.View, dy.View, dx.View, y.Rows, y.Columns);

    /// <remarks>
    /// A target outside [0, C) cannot throw from a kernel: <see cref="Ops.NllLoss"/> rejects it before the call, and
    /// should one get here anyway, its row gets a NaN loss and a NaN gradient row.
    /// </remarks>
    public void NllLoss(Tensor input, IndexTensor targets, Tensor losses, Tensor dInput, float gradScale, int? ignoreIndex)
        => FusedKernels.NllLoss(input.View, targets.View, losses.View, dInput.View, input.Rows, input.Columns, gradScale, ignoreIndex);

    public void LayerNormForward(Tensor x, Tensor? weight, Tensor? bias, float epsilon, Tensor y, Tensor mean, Tensor rstd)
        => FusedKernels.LayerNormForward(x.View, weight?.View ?? ArrayView<float>.Empty, bias?.View ?? ArrayView<float>.Empty, y.View, mean.View, rstd.View, x.Rows, x.Columns, epsilon);

    /// <remarks>
    /// The parameter gradients are column sums, queued before dx so that dx may be dy: dWeight by the layer norm's own
    /// first stage and <see cref="BiasKernels.SumColumnsFinish"/>, dBias by <see cref="SumColumns"/>.
    /// </remarks>
    public void LayerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias)
    {
        int rows = x.Rows, columns = x.Columns;
        if (rows == 0)
        {
            return;
        }

        if (dWeight is not null)
        {
            int blocks = (rows + BiasKernels.RowsPerBlock - 1) / BiasKernels.RowsPerBlock;
            var partials = Elementwise.Scratch((long)blocks * columns);
            Elementwise.LayerNormWeightGradientPartial(Extent((long)blocks * columns), x.View, mean.View, rstd.View, dy.View, partials, rows, columns);
            Elementwise.SumColumnsFinish(columns, partials, dWeight.View, blocks, columns, 1);
        }

        if (dBias is not null)
        {
            SumColumns(dy, dBias, accumulate: true);
        }

        FusedKernels.LayerNormInputGradient(x.View, mean.View, rstd.View, weight?.View ?? ArrayView<float>.Empty, dy.View, dx.View, rows, columns);
    }

    /// <remarks>
    /// Two column-sum passes over x: Σx gives the shift (kept in the float scratch), then Σ(x − shift) and its squares
    /// give the statistics; the double partials of both stages share the scratch.
    /// </remarks>
    public void BatchNormStatistics(Tensor x, Tensor mean, Tensor variance, Tensor? runningMean, Tensor? runningVariance, float factor)
    {
        var layout = BatchNormLayout(x);
        if (layout.Rows == 0 || layout.Channels == 0)
        {
            return;
        }

        var partials = Elementwise.Scratch(2L * layout.PartialLength);
        var shift = Elementwise.FloatScratch(layout.Channels);
        Elementwise.BatchNormSumsPartial(Extent(layout.PartialLength), x.View, ArrayView<float>.Empty, partials, layout);
        Elementwise.BatchNormShift(layout.Channels, partials, shift, layout);
        Elementwise.BatchNormSumsPartial(Extent(layout.PartialLength), x.View, shift, partials, layout);
        Elementwise.BatchNormFinish(
            layout.Channels, partials, shift, mean.View, variance.View, runningMean?.View ?? ArrayView<float>.Empty, runningVariance?.View ?? ArrayView<float>.Empty, layout, factor);
    }

    public void BatchNormForward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float epsilon, Tensor y)
    {
        if (x.Length > 0)
        {
            Elementwise.BatchNormNormalize(
                Extent(x.Length), x.View, mean.View, variance.View, weight?.View ?? ArrayView<float>.Empty, bias?.View ?? ArrayView<float>.Empty, y.View, BatchNormLayout(x), epsilon);
        }
    }

    /// <remarks>The channel sums (Σdy, Σdy·x̂) are queued before dx, so that dx may be dy; they stay in the scratch for dx.</remarks>
    public void BatchNormBackward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, float epsilon, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias, bool batchStatistics)
    {
        var layout = BatchNormLayout(x);
        if (layout.Rows == 0 || layout.Channels == 0)
        {
            return;
        }

        var scratch = Elementwise.Scratch((2L * layout.PartialLength) + (2L * layout.Channels));
        var partials = scratch.SubView(0, 2L * layout.PartialLength);
        var sums = scratch.SubView(2L * layout.PartialLength, 2L * layout.Channels);
        Elementwise.BatchNormGradientSumsPartial(Extent(layout.PartialLength), x.View, mean.View, variance.View, dy.View, partials, layout, epsilon);
        Elementwise.BatchNormGradientSumsFinish(layout.Channels, partials, sums, dWeight?.View ?? ArrayView<float>.Empty, dBias?.View ?? ArrayView<float>.Empty, layout);
        Elementwise.BatchNormInputGradient(
            Extent(x.Length), x.View, mean.View, variance.View, weight?.View ?? ArrayView<float>.Empty, dy.View, dx.View, sums, layout, epsilon, batchStatistics ? 1 : 0);
    }

    // x [N, C] or [N, C, L] as the batch norm kernels read it.
    private static BatchNormLayout BatchNormLayout(Tensor x) => Tensorlet.Kernels.Ilgpu.BatchNormLayout.For(x.Shape[0], x.Shape[1], x.Rank == 3 ? x.Shape[2] : 1);

    /// <summary>Always false: the LSTM runs its steps through <see cref="Gemm"/> and the cell kernels on ILGPU.</summary>
    public bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
        => false;

    /// <summary>Always false, as <see cref="TryLstmRecurrenceForward"/>.</summary>
    public bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor dBias, Tensor weightHh, int steps, int batch)
        => false;

    /// <summary>Always false: the layers run one after the other on ILGPU.</summary>
    public bool TryLstmWavefrontForward(in LstmLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in LstmLayerTensors upper, int steps, int batch)
        => false;

    /// <summary>Always false, as <see cref="TryLstmWavefrontForward"/>.</summary>
    public bool TryLstmWavefrontBackward(in LstmLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in LstmLayerGradientTensors lower, int steps, int batch)
        => false;

    /// <summary>Always false: the layers run one after the other on ILGPU.</summary>
    public bool TryGruWavefrontForward(in GruLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor biasIh, in GruLayerTensors upper, int steps, int batch)
        => false;

    /// <summary>Always false, as <see cref="TryGruWavefrontForward"/>.</summary>
    public bool TryGruWavefrontBackward(in GruLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in GruLayerGradientTensors lower, int steps, int batch)
        => false;

    /// <summary>Always false: the RNN runs its steps through Gemm and the activation kernels on ILGPU.</summary>
    public bool TryRnnRecurrenceForward(Tensor pre, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, Activation activation, int steps, int batch)
        => false;

    /// <summary>Always false, as <see cref="TryRnnRecurrenceForward"/>.</summary>
    public bool TryRnnRecurrenceBackward(Tensor hidden, Tensor dH, Tensor dPre, Tensor dBias, Tensor weightHh, Activation activation, int steps, int batch)
        => false;

    /// <summary>Always false: the layers run one after the other on ILGPU.</summary>
    public bool TryRnnWavefrontForward(in RnnLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in RnnLayerTensors upper, Activation activation, int steps, int batch)
        => false;

    /// <summary>Always false, as <see cref="TryRnnWavefrontForward"/>.</summary>
    public bool TryRnnWavefrontBackward(in RnnLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in RnnLayerGradientTensors lower, Activation activation, int steps, int batch)
        => false;
}
