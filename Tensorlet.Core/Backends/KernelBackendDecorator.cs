using Tensorlet.Kernels;

namespace Tensorlet.Backends;

/// <summary>
/// A backend in front of another that forwards every kernel call to it, between <see cref="Begin"/> and
/// <see cref="End"/>: the base of tools that watch the kernels through <see cref="Device.InterceptKernels"/> (the Bench
/// profiler). A kernel added to <see cref="IKernelBackend"/> gets its forwarding here, once, and such tools need no change.
/// A Try… kernel that declines (returns false) is not reported. The device owns and disposes the inner backend.
/// </summary>
/// <typeparam name="TMark">What <see cref="Begin"/> notes before a call for <see cref="End"/> to use after it.</typeparam>
internal abstract class KernelBackendDecorator<TMark>(IKernelBackend inner) : IKernelBackend
{
    /// <inheritdoc/>
    public string Description => Inner.Description;

    /// <summary>The backend every call goes to.</summary>
    protected IKernelBackend Inner { get; } = inner;

    /// <inheritdoc/>
    public Storage<T> Allocate<T>(long length)
        where T : unmanaged => Inner.Allocate<T>(length);

    /// <inheritdoc/>
    public void Synchronize() => Inner.Synchronize();

    /// <inheritdoc/>
    public void Fill(Tensor x, float value)
    {
        var mark = Begin();
        Inner.Fill(x, value);
        End(nameof(Fill), mark);
    }

    /// <inheritdoc/>
    public void Copy(Tensor source, Tensor destination)
    {
        var mark = Begin();
        Inner.Copy(source, destination);
        End(nameof(Copy), mark);
    }

    /// <inheritdoc/>
    public virtual void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta)
    {
        var mark = Begin();
        Inner.Gemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
        End(nameof(Gemm), mark);
    }

    /// <inheritdoc/>
    public virtual void GemmSharedA(Tensor a, bool transposeA, Tensor b1, Tensor c1, Tensor b2, Tensor c2, int m, int n1, int n2, int k, float alpha, float beta)
    {
        var mark = Begin();
        Inner.GemmSharedA(a, transposeA, b1, c1, b2, c2, m, n1, n2, k, alpha, beta);
        End(nameof(GemmSharedA), mark);
    }

    /// <inheritdoc/>
    public void GatherColumns(Tensor weight, IndexTensor indices, Tensor output, Tensor? bias)
    {
        var mark = Begin();
        Inner.GatherColumns(weight, indices, output, bias);
        End(nameof(GatherColumns), mark);
    }

    /// <inheritdoc/>
    public void ScatterAddColumns(Tensor gradOutput, IndexTensor indices, Tensor gradWeight)
    {
        var mark = Begin();
        Inner.ScatterAddColumns(gradOutput, indices, gradWeight);
        End(nameof(ScatterAddColumns), mark);
    }

    /// <inheritdoc/>
    public void FillRows(Tensor x, Tensor row)
    {
        var mark = Begin();
        Inner.FillRows(x, row);
        End(nameof(FillRows), mark);
    }

    /// <inheritdoc/>
    public void AddBias(Tensor x, Tensor bias)
    {
        var mark = Begin();
        Inner.AddBias(x, bias);
        End(nameof(AddBias), mark);
    }

    /// <inheritdoc/>
    public void SumColumns(Tensor x, Tensor result, bool accumulate)
    {
        var mark = Begin();
        Inner.SumColumns(x, result, accumulate);
        End(nameof(SumColumns), mark);
    }

    /// <inheritdoc/>
    public void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h)
    {
        var mark = Begin();
        Inner.LstmCellForward(preactivations, cPrev, gates, c, h);
        End(nameof(LstmCellForward), mark);
    }

    /// <inheritdoc/>
    public void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev)
    {
        var mark = Begin();
        Inner.LstmCellBackward(gates, c, cPrev, dh, dcNext, dPreactivations, dcPrev);
        End(nameof(LstmCellBackward), mark);
    }

    /// <inheritdoc/>
    public bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryLstmRecurrenceForward(gates, cells, hidden, h0, c0, hasInitialHidden, weightHh, steps, batch), "LstmRecurrenceForward", mark);
    }

    /// <inheritdoc/>
    public bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor dBias, Tensor weightHh, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryLstmRecurrenceBackward(gates, cells, c0, dH, dc, dPre, dBias, weightHh, steps, batch), "LstmRecurrenceBackward", mark);
    }

    /// <inheritdoc/>
    public bool TryLstmWavefrontForward(in LstmLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in LstmLayerTensors upper, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryLstmWavefrontForward(lower, upperInput, dropout, dropoutSeed, dropoutStream, weightIh, bias, upper, steps, batch), "LstmWavefrontForward", mark);
    }

    /// <inheritdoc/>
    public bool TryLstmWavefrontBackward(in LstmLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in LstmLayerGradientTensors lower, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryLstmWavefrontBackward(upper, weightIh, dropout, dropoutSeed, dropoutStream, lower, steps, batch), "LstmWavefrontBackward", mark);
    }

    /// <inheritdoc/>
    public bool TryGruWavefrontForward(in GruLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor biasIh, in GruLayerTensors upper, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryGruWavefrontForward(lower, upperInput, dropout, dropoutSeed, dropoutStream, weightIh, biasIh, upper, steps, batch), "GruWavefrontForward", mark);
    }

    /// <inheritdoc/>
    public bool TryGruWavefrontBackward(in GruLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in GruLayerGradientTensors lower, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryGruWavefrontBackward(upper, weightIh, dropout, dropoutSeed, dropoutStream, lower, steps, batch), "GruWavefrontBackward", mark);
    }

    /// <inheritdoc/>
    public void GruCellForward(Tensor gi, Tensor gh, Tensor hPrev, Tensor gates, Tensor h)
    {
        var mark = Begin();
        Inner.GruCellForward(gi, gh, hPrev, gates, h);
        End(nameof(GruCellForward), mark);
    }

    /// <inheritdoc/>
    public void GruCellBackward(Tensor gates, Tensor gh, Tensor hPrev, Tensor dh, Tensor dhNext, Tensor dgi, Tensor dgh, Tensor dhPrev)
    {
        var mark = Begin();
        Inner.GruCellBackward(gates, gh, hPrev, dh, dhNext, dgi, dgh, dhPrev);
        End(nameof(GruCellBackward), mark);
    }

    /// <inheritdoc/>
    public bool TryGruRecurrenceForward(Tensor gi, Tensor gh, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryGruRecurrenceForward(gi, gh, hidden, h0, hasInitialHidden, weightHh, steps, batch), "GruRecurrenceForward", mark);
    }

    /// <inheritdoc/>
    public bool TryGruRecurrenceBackward(Tensor gates, Tensor gh, Tensor hidden, Tensor h0, Tensor dH, Tensor dhCarry, Tensor dgi, Tensor dgh, Tensor dBiasIh, Tensor dBiasHh, Tensor weightHh, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryGruRecurrenceBackward(gates, gh, hidden, h0, dH, dhCarry, dgi, dgh, dBiasIh, dBiasHh, weightHh, steps, batch), "GruRecurrenceBackward", mark);
    }

    /// <inheritdoc/>
    public bool TryRnnRecurrenceForward(Tensor pre, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, Activation activation, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryRnnRecurrenceForward(pre, hidden, h0, hasInitialHidden, weightHh, activation, steps, batch), "RnnRecurrenceForward", mark);
    }

    /// <inheritdoc/>
    public bool TryRnnRecurrenceBackward(Tensor hidden, Tensor dH, Tensor dPre, Tensor dBias, Tensor weightHh, Activation activation, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryRnnRecurrenceBackward(hidden, dH, dPre, dBias, weightHh, activation, steps, batch), "RnnRecurrenceBackward", mark);
    }

    /// <inheritdoc/>
    public bool TryRnnWavefrontForward(in RnnLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in RnnLayerTensors upper, Activation activation, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryRnnWavefrontForward(lower, upperInput, dropout, dropoutSeed, dropoutStream, weightIh, bias, upper, activation, steps, batch), "RnnWavefrontForward", mark);
    }

    /// <inheritdoc/>
    public bool TryRnnWavefrontBackward(in RnnLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in RnnLayerGradientTensors lower, Activation activation, int steps, int batch)
    {
        var mark = Begin();
        return EndIfRan(Inner.TryRnnWavefrontBackward(upper, weightIh, dropout, dropoutSeed, dropoutStream, lower, activation, steps, batch), "RnnWavefrontBackward", mark);
    }

    /// <inheritdoc/>
    public void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale, int? ignoreIndex)
    {
        var mark = Begin();
        Inner.SoftmaxCrossEntropy(logits, targets, losses, dLogits, gradScale, ignoreIndex);
        End(nameof(SoftmaxCrossEntropy), mark);
    }

    /// <inheritdoc/>
    public void NllLoss(Tensor input, IndexTensor targets, Tensor losses, Tensor dInput, float gradScale, int? ignoreIndex)
    {
        var mark = Begin();
        Inner.NllLoss(input, targets, losses, dInput, gradScale, ignoreIndex);
        End(nameof(NllLoss), mark);
    }

    /// <inheritdoc/>
    public void LogSoftmax(Tensor x, Tensor y)
    {
        var mark = Begin();
        Inner.LogSoftmax(x, y);
        End(nameof(LogSoftmax), mark);
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        var mark = Begin();
        Inner.SoftmaxBackward(y, dy, dx);
        End(nameof(SoftmaxBackward), mark);
    }

    /// <inheritdoc/>
    public void LogSoftmaxBackward(Tensor y, Tensor dy, Tensor dx)
    {
        var mark = Begin();
        Inner.LogSoftmaxBackward(y, dy, dx);
        End(nameof(LogSoftmaxBackward), mark);
    }

    /// <inheritdoc/>
    public void LayerNormForward(Tensor x, Tensor? weight, Tensor? bias, float epsilon, Tensor y, Tensor mean, Tensor rstd)
    {
        var mark = Begin();
        Inner.LayerNormForward(x, weight, bias, epsilon, y, mean, rstd);
        End(nameof(LayerNormForward), mark);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor x, Tensor mean, Tensor rstd, Tensor? weight, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias)
    {
        var mark = Begin();
        Inner.LayerNormBackward(x, mean, rstd, weight, dy, dx, dWeight, dBias);
        End(nameof(LayerNormBackward), mark);
    }

    /// <inheritdoc/>
    public void BatchNormStatistics(Tensor x, Tensor mean, Tensor variance, Tensor? runningMean, Tensor? runningVariance, float factor)
    {
        var mark = Begin();
        Inner.BatchNormStatistics(x, mean, variance, runningMean, runningVariance, factor);
        End(nameof(BatchNormStatistics), mark);
    }

    /// <inheritdoc/>
    public void BatchNormForward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, Tensor? bias, float epsilon, Tensor y)
    {
        var mark = Begin();
        Inner.BatchNormForward(x, mean, variance, weight, bias, epsilon, y);
        End(nameof(BatchNormForward), mark);
    }

    /// <inheritdoc/>
    public void BatchNormBackward(Tensor x, Tensor mean, Tensor variance, Tensor? weight, float epsilon, Tensor dy, Tensor dx, Tensor? dWeight, Tensor? dBias, bool batchStatistics)
    {
        var mark = Begin();
        Inner.BatchNormBackward(x, mean, variance, weight, epsilon, dy, dx, dWeight, dBias, batchStatistics);
        End(nameof(BatchNormBackward), mark);
    }

    /// <inheritdoc/>
    public void ActivationForward(Activation activation, Tensor x, Tensor y)
    {
        var mark = Begin();
        Inner.ActivationForward(activation, x, y);
        End(nameof(ActivationForward), mark);
    }

    /// <inheritdoc/>
    public void ActivationBackward(Activation activation, Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        var mark = Begin();
        Inner.ActivationBackward(activation, x, y, dy, dx);
        End(nameof(ActivationBackward), mark);
    }

    /// <inheritdoc/>
    public void LeakyReluForward(Tensor x, Tensor y, float negativeSlope)
    {
        var mark = Begin();
        Inner.LeakyReluForward(x, y, negativeSlope);
        End(nameof(LeakyReluForward), mark);
    }

    /// <inheritdoc/>
    public void LeakyReluBackward(Tensor x, Tensor dy, Tensor dx, float negativeSlope)
    {
        var mark = Begin();
        Inner.LeakyReluBackward(x, dy, dx, negativeSlope);
        End(nameof(LeakyReluBackward), mark);
    }

    /// <inheritdoc/>
    public void Dropout(Tensor x, Tensor y, float p, ulong seed, ulong stream)
    {
        var mark = Begin();
        Inner.Dropout(x, y, p, seed, stream);
        End(nameof(Dropout), mark);
    }

    /// <inheritdoc/>
    public void AdamStep(Tensor parameters, Tensor gradients, Tensor m, Tensor v, Tensor vMax, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad, int step)
    {
        var mark = Begin();
        Inner.AdamStep(parameters, gradients, m, v, vMax, learningRate, beta1, beta2, epsilon, weightDecay, amsgrad, step);
        End(nameof(AdamStep), mark);
    }

    /// <inheritdoc/>
    public double SumOfSquares(Tensor x)
    {
        var mark = Begin();
        double result = Inner.SumOfSquares(x);
        End(nameof(SumOfSquares), mark);
        return result;
    }

    /// <inheritdoc/>
    public double ElementwiseLoss(ElementwiseLossKind loss, float parameter, Tensor x, Tensor y, Tensor? posWeight, Tensor gradient, float gradScale)
    {
        var mark = Begin();
        double result = Inner.ElementwiseLoss(loss, parameter, x, y, posWeight, gradient, gradScale);
        End(nameof(ElementwiseLoss), mark);
        return result;
    }

    /// <inheritdoc/>
    public void Scale(Tensor x, float alpha)
    {
        var mark = Begin();
        Inner.Scale(x, alpha);
        End(nameof(Scale), mark);
    }

    /// <inheritdoc/>
    public void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature)
    {
        var mark = Begin();
        Inner.SoftmaxWithTemperature(logits, probabilities, temperature);
        End(nameof(SoftmaxWithTemperature), mark);
    }

    /// <inheritdoc/>
    public void Add(Tensor a, Tensor b, Tensor y, float alpha)
    {
        var mark = Begin();
        Inner.Add(a, b, y, alpha);
        End(nameof(Add), mark);
    }

    /// <inheritdoc/>
    public void Multiply(Tensor a, Tensor b, Tensor y)
    {
        var mark = Begin();
        Inner.Multiply(a, b, y);
        End(nameof(Multiply), mark);
    }

    /// <inheritdoc/>
    public void ScaleRows(Tensor x, Tensor scale)
    {
        var mark = Begin();
        Inner.ScaleRows(x, scale);
        End(nameof(ScaleRows), mark);
    }

    /// <inheritdoc/>
    public void GatherIndices(IndexTensor source, IndexTensor positions, IndexTensor output)
    {
        var mark = Begin();
        Inner.GatherIndices(source, positions, output);
        End(nameof(GatherIndices), mark);
    }

    /// <inheritdoc/>
    public void ArgmaxRows(Tensor x, IndexTensor result)
    {
        var mark = Begin();
        Inner.ArgmaxRows(x, result);
        End(nameof(ArgmaxRows), mark);
    }

    /// <inheritdoc/>
    public void GatherRows(Tensor table, IndexTensor indices, Tensor output)
    {
        var mark = Begin();
        Inner.GatherRows(table, indices, output);
        End(nameof(GatherRows), mark);
    }

    /// <inheritdoc/>
    public void ScatterAddRows(Tensor gradOutput, IndexTensor indices, Tensor gradTable, int skipRow)
    {
        var mark = Begin();
        Inner.ScatterAddRows(gradOutput, indices, gradTable, skipRow);
        End(nameof(ScatterAddRows), mark);
    }

    /// <inheritdoc/>
    public void Unfold1d(Tensor x, Tensor columns, Conv1dGeometry geometry)
    {
        var mark = Begin();
        Inner.Unfold1d(x, columns, geometry);
        End(nameof(Unfold1d), mark);
    }

    /// <inheritdoc/>
    public void Fold1d(Tensor columns, Tensor x, Conv1dGeometry geometry)
    {
        var mark = Begin();
        Inner.Fold1d(columns, x, geometry);
        End(nameof(Fold1d), mark);
    }

    /// <inheritdoc/>
    public void Unfold2d(Tensor x, Tensor columns, Conv2dGeometry geometry)
    {
        var mark = Begin();
        Inner.Unfold2d(x, columns, geometry);
        End(nameof(Unfold2d), mark);
    }

    /// <inheritdoc/>
    public void Fold2d(Tensor columns, Tensor x, Conv2dGeometry geometry)
    {
        var mark = Begin();
        Inner.Fold2d(columns, x, geometry);
        End(nameof(Fold2d), mark);
    }

    /// <inheritdoc/>
    public void DepthwiseConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor y, DepthwiseConv1dGeometry geometry)
    {
        var mark = Begin();
        Inner.DepthwiseConv1d(x, weight, bias, y, geometry);
        End(nameof(DepthwiseConv1d), mark);
    }

    /// <inheritdoc/>
    public void DepthwiseConv1dBackwardInput(Tensor dy, Tensor weight, Tensor dx, DepthwiseConv1dGeometry geometry)
    {
        var mark = Begin();
        Inner.DepthwiseConv1dBackwardInput(dy, weight, dx, geometry);
        End(nameof(DepthwiseConv1dBackwardInput), mark);
    }

    /// <inheritdoc/>
    public void DepthwiseConv1dBackwardWeight(Tensor x, Tensor dy, Tensor weightGradient, Tensor? biasGradient, DepthwiseConv1dGeometry geometry)
    {
        var mark = Begin();
        Inner.DepthwiseConv1dBackwardWeight(x, dy, weightGradient, biasGradient, geometry);
        End(nameof(DepthwiseConv1dBackwardWeight), mark);
    }

    /// <inheritdoc/>
    public void GatherPositions(Tensor input, IndexTensor map, Tensor output)
    {
        var mark = Begin();
        Inner.GatherPositions(input, map, output);
        End(nameof(GatherPositions), mark);
    }

    /// <inheritdoc/>
    public void GatherPositionsBackward(Tensor gradOutput, IndexTensor starts, IndexTensor copies, Tensor gradInput)
    {
        var mark = Begin();
        Inner.GatherPositionsBackward(gradOutput, starts, copies, gradInput);
        End(nameof(GatherPositionsBackward), mark);
    }

    /// <inheritdoc/>
    public void MaxPool(Tensor x, Tensor y, IndexTensor argmax, Pool2dGeometry geometry)
    {
        var mark = Begin();
        Inner.MaxPool(x, y, argmax, geometry);
        End(nameof(MaxPool), mark);
    }

    /// <inheritdoc/>
    public void MaxPoolBackward(Tensor dy, IndexTensor argmax, Tensor dx, Pool2dGeometry geometry)
    {
        var mark = Begin();
        Inner.MaxPoolBackward(dy, argmax, dx, geometry);
        End(nameof(MaxPoolBackward), mark);
    }

    /// <inheritdoc/>
    public void AvgPool(Tensor x, Tensor y, Pool2dGeometry geometry)
    {
        var mark = Begin();
        Inner.AvgPool(x, y, geometry);
        End(nameof(AvgPool), mark);
    }

    /// <inheritdoc/>
    public void AvgPoolBackward(Tensor dy, Tensor dx, Pool2dGeometry geometry)
    {
        var mark = Begin();
        Inner.AvgPoolBackward(dy, dx, geometry);
        End(nameof(AvgPoolBackward), mark);
    }

    /// <inheritdoc/>
    public void SgdStep(Tensor parameters, Tensor gradients, Tensor momentum, SgdCoefficients coefficients)
    {
        var mark = Begin();
        Inner.SgdStep(parameters, gradients, momentum, coefficients);
        End(nameof(SgdStep), mark);
    }

    /// <inheritdoc/>
    public void RMSpropStep(Tensor parameters, Tensor gradients, Tensor squareAverage, Tensor momentumBuffer, Tensor gradientAverage, RMSpropCoefficients coefficients)
    {
        var mark = Begin();
        Inner.RMSpropStep(parameters, gradients, squareAverage, momentumBuffer, gradientAverage, coefficients);
        End(nameof(RMSpropStep), mark);
    }

    /// <summary>Nothing to release: the device disposes its own backend, not the decorator in front of it.</summary>
    public void Dispose()
    {
    }

    /// <summary>Called before each kernel call.</summary>
    protected abstract TMark Begin();

    /// <summary>Called after the call to <paramref name="kernel"/> (its method name) returned; the kernel may still be queued.</summary>
    protected abstract void End(string kernel, TMark mark);

    /// <summary>Calls <see cref="End"/> for a Try kernel that ran (one that declined did no work to record); returns <paramref name="ran"/>.</summary>
    private bool EndIfRan(bool ran, string kernel, TMark mark)
    {
        if (ran)
        {
            End(kernel, mark);
        }

        return ran;
    }
}
