using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    public void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h)
        => CpuLstmCell.Forward(preactivations.Span, cPrev.Span, gates.Span, c.Span, h.Span, cPrev.Rows, preactivations.Columns / 4, Threads, Plan.Width);

    public void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev)
        => CpuLstmCell.Backward(gates.Span, c.Span, cPrev.Span, dh.Span, dcNext.Span, dPreactivations.Span, dcPrev.Span, c.Rows, gates.Columns / 4, Threads, Plan.Width);

    public void GruCellForward(Tensor gi, Tensor gh, Tensor hPrev, Tensor gates, Tensor h)
        => CpuGruCell.Forward(gi.Span, gh.Span, hPrev.Span, gates.Span, h.Span, hPrev.Rows, hPrev.Columns, Threads, Plan.Width);

    public void GruCellBackward(Tensor gates, Tensor gh, Tensor hPrev, Tensor dh, Tensor dhNext, Tensor dgi, Tensor dgh, Tensor dhPrev)
        => CpuGruCell.Backward(gates.Span, gh.Span, hPrev.Span, dh.Span, dhNext.Span, dgi.Span, dgh.Span, dhPrev.Span, hPrev.Rows, hPrev.Columns, Threads, Plan.Width);

    /// <remarks>A target outside [0, V) throws <see cref="ArgumentOutOfRangeException"/> naming its row and value, before anything is written.</remarks>
    public void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale, int? ignoreIndex)
        => CpuSoftmax.CrossEntropy(logits.Span, targets.Span, losses.Span, dLogits.Span, logits.Rows, logits.Columns, gradScale, Threads, Plan.Width, ignoreIndex);

    public void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature)
        => CpuSoftmax.WithTemperature(logits.Span, probabilities.Span, logits.Rows, logits.Columns, temperature, Threads, Plan.Width);

    public void LogSoftmax(Tensor x, Tensor y)
        => CpuSoftmax.LogSoftmax(x.ReadSpan, y.Span, x.Rows, x.Columns, Threads, Plan.Width);

    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
        => CpuSoftmax.SoftmaxBackward(y.ReadSpan, dy.ReadSpan, dx.Span, y.Rows, y.Columns, Threads, Plan.Width);

    public void LogSoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
        => CpuSoftmax.LogSoftmaxBackward(y.ReadSpan, dy.ReadSpan, dx.Span, y.Rows, y.Columns, Threads, Plan.Width);

    /// <remarks>A target outside [0, C) throws <see cref="ArgumentOutOfRangeException"/> naming its row and value, before anything is written.</remarks>
    public void NllLoss(Tensor input, IndexTensor targets, Tensor losses, Tensor dInput, float gradScale, int? ignoreIndex)
        => CpuNllLoss.Rows(input.ReadSpan, targets.Span, losses.Span, dInput.Span, input.Rows, input.Columns, gradScale, Threads, ignoreIndex);

    public void LayerNormForward(Tensor x, Tensor? weight, Tensor? bias, float epsilon, Tensor y, Tensor mean, Tensor rstd)
        => CpuLayerNorm.Forward(x.ReadSpan, Read(weight), Read(bias), y.Span, mean.Span, rstd.Span, x.Rows, x.Columns, epsilon, Threads, Plan.Width);

    public void LayerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias)
        => CpuLayerNorm.Backward(
            x.ReadSpan, mean.ReadSpan, rstd.ReadSpan, Read(weight), dy.ReadSpan, dx.Span, dWeight is null ? default : dWeight.Span, dBias is null ? default : dBias.Span, x.Rows, x.Columns, Threads, Plan.Width);

    public void BatchNormStatistics(Tensor x, Tensor mean, Tensor variance, Tensor? runningMean, Tensor? runningVariance, float factor)
        => CpuBatchNorm.Statistics(
            x.ReadSpan, mean.Span, variance.Span, Write(runningMean), Write(runningVariance), factor, x.Shape[0], x.Shape[1], BatchNormInner(x), Threads, Plan.Width);

    public void BatchNormForward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float epsilon, Tensor y)
        => CpuBatchNorm.Forward(x.ReadSpan, mean.ReadSpan, variance.ReadSpan, Read(weight), Read(bias), epsilon, y.Span, x.Shape[0], x.Shape[1], BatchNormInner(x), Threads, Plan.Width);

    public void BatchNormBackward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, float epsilon, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias, bool batchStatistics)
        => CpuBatchNorm.Backward(
            x.ReadSpan, mean.ReadSpan, variance.ReadSpan, Read(weight), epsilon, dy.ReadSpan, dx.Span, Write(dWeight), Write(dBias), batchStatistics, x.Shape[0], x.Shape[1], BatchNormInner(x), Threads, Plan.Width);

    // L of x [N, C, L], 1 for [N, C].
    private static int BatchNormInner(Tensor x) => x.Rank == 3 ? x.Shape[2] : 1;

    // An optional output's elements, empty for none.
    private static Span<float> Write(Tensor? tensor) => tensor is null ? default : tensor.Span;

    // An optional input's elements, empty for none; a read, so packed copies of a parameter buffer stay valid.
    private static ReadOnlySpan<float> Read(Tensor? tensor) => tensor is null ? default : tensor.ReadSpan;
}
