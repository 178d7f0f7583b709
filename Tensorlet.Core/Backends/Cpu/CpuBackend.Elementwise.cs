using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    public void Fill(Tensor x, float value) => CpuMemory.Fill(x.Span, value, Threads);

    public void Copy(Tensor source, Tensor destination) => CpuMemory.Copy(source.Span, destination.Span, Threads);

    public void Scale(Tensor x, float alpha) => CpuElementwise.UnaryParallel(x.Span, x.Span, new ScaleOperator(alpha), Threads, Plan.Width);

    public double SumOfSquares(Tensor x) => CpuReduction.SumOfSquares(x.Span, Threads, Plan.Width);

    public double ElementwiseLoss(ElementwiseLossKind loss, float parameter, Tensor x, Tensor y, Tensor? posWeight, Tensor gradient, float gradScale)
        => CpuElementwiseLoss.Evaluate(loss, parameter, x.ReadSpan, y.ReadSpan, Read(posWeight), gradient.Span, gradScale, Threads, Plan.Width);

    public void GatherColumns(Tensor weight, IndexTensor indices, Tensor output, Tensor? bias)
        => CpuGatherScatter.GatherColumns(weight.Span, weight.Rows, weight.Columns, indices.Span, bias is null ? default : bias.Span, output.Span, Threads, Plan.Width);

    public void ScatterAddColumns(Tensor gradOutput, IndexTensor indices, Tensor gradWeight)
        => CpuGatherScatter.ScatterAddColumns(gradOutput.Span, indices.Span, gradWeight.Span, gradWeight.Rows, gradWeight.Columns, Threads, Plan.Width);

    public void FillRows(Tensor x, Tensor row) => CpuBias.FillRows(x.Span, row.Span, Threads);

    public void AddBias(Tensor x, Tensor bias) => CpuBias.AddBias(x.Span, bias.Span, Threads, Plan.Width);

    public void SumColumns(Tensor x, Tensor result, bool accumulate) => CpuBias.SumColumns(x.Span, result.Span, accumulate, Threads, Plan.Width);

    public void ActivationForward(Activation activation, Tensor x, Tensor y) => CpuActivation.Forward(activation, x.Span, y.Span, Threads, Plan.Width);

    public void ActivationBackward(Activation activation, Tensor x, Tensor y, Tensor dy, Tensor dx)
        => CpuActivation.Backward(activation, x.ReadSpan, y.ReadSpan, dy.ReadSpan, dx.Span, Threads, Plan.Width);

    public void LeakyReluForward(Tensor x, Tensor y, float negativeSlope) => CpuActivation.LeakyReluForward(x.Span, y.Span, negativeSlope, Threads, Plan.Width);

    public void LeakyReluBackward(Tensor x, Tensor dy, Tensor dx, float negativeSlope)
        => CpuActivation.LeakyReluBackward(x.ReadSpan, dy.ReadSpan, dx.Span, negativeSlope, Threads, Plan.Width);

    public void Dropout(Tensor x, Tensor y, float p, ulong seed, ulong stream) => CpuDropout.Apply(x.Span, y.Span, p, seed, stream, Threads, Plan.Width);

    public void AdamStep(Tensor parameters, Tensor gradients, Tensor m, Tensor v, Tensor vMax, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad, int step)
        => CpuAdam.Step(parameters.Span, gradients.Span, m.Span, v.Span, amsgrad ? vMax.Span : default, AdamCoefficients.For(learningRate, beta1, beta2, epsilon, weightDecay, amsgrad, step), Threads, Plan.Width);

    public void Add(Tensor a, Tensor b, Tensor y, float alpha)
    {
        if (alpha == 1f)
        {
            CpuElementwise.BinaryParallel(a.Span, b.Span, y.Span, default(AddOperator), Threads, Plan.Width);
        }
        else
        {
            CpuElementwise.BinaryParallel(a.Span, b.Span, y.Span, new AddScaledOperator(alpha), Threads, Plan.Width);
        }
    }

    public void Multiply(Tensor a, Tensor b, Tensor y) => CpuElementwise.BinaryParallel(a.Span, b.Span, y.Span, default(MultiplyOperator), Threads, Plan.Width);

    public void ScaleRows(Tensor x, Tensor scale) => CpuRows.Scale(x.Span, x.Rows, x.Columns, scale.Span, Threads, Plan.Width);

    public void GatherIndices(IndexTensor source, IndexTensor positions, IndexTensor output)
        => CpuGatherScatter.GatherIndices(source.ReadSpan, positions.ReadSpan, output.Span);

    public void ArgmaxRows(Tensor x, IndexTensor result) => CpuRows.Argmax(x.Span, x.Rows, x.Columns, result.Span, Threads);

    public void GatherRows(Tensor table, IndexTensor indices, Tensor output)
        => CpuGatherScatter.GatherRows(table.Span, table.Rows, table.Columns, indices.Span, output.Span, Threads);

    public void ScatterAddRows(Tensor gradOutput, IndexTensor indices, Tensor gradTable, int skipRow)
        => CpuGatherScatter.ScatterAddRows(gradOutput.Span, indices.Span, gradTable.Span, gradTable.Rows, gradTable.Columns, skipRow, Threads, Plan.Width);

    public void Unfold1d(Tensor x, Tensor columns, Conv1dGeometry geometry) => CpuUnfold.Unfold(x.ReadSpan, columns.Span, geometry, Threads);

    public void Fold1d(Tensor columns, Tensor x, Conv1dGeometry geometry) => CpuUnfold.Fold(columns.ReadSpan, x.Span, geometry, Threads);

    public void Unfold2d(Tensor x, Tensor columns, Conv2dGeometry geometry) => CpuUnfold2d.Unfold(x.ReadSpan, columns.Span, geometry, Threads);

    public void Fold2d(Tensor columns, Tensor x, Conv2dGeometry geometry) => CpuUnfold2d.Fold(columns.ReadSpan, x.Span, geometry, Threads);

    public void DepthwiseConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor y, DepthwiseConv1dGeometry geometry)
        => CpuDepthwiseConv1d.Forward(x.ReadSpan, weight.ReadSpan, bias is null ? default : bias.ReadSpan, y.Span, geometry, Threads, Plan.Width);

    public void DepthwiseConv1dBackwardInput(Tensor dy, Tensor weight, Tensor dx, DepthwiseConv1dGeometry geometry)
        => CpuDepthwiseConv1d.BackwardInput(dy.ReadSpan, weight.ReadSpan, dx.Span, geometry, Threads, Plan.Width);

    public void DepthwiseConv1dBackwardWeight(Tensor x, Tensor dy, Tensor weightGradient, Tensor? biasGradient, DepthwiseConv1dGeometry geometry)
        => CpuDepthwiseConv1d.BackwardWeight(x.ReadSpan, dy.ReadSpan, weightGradient.Span, biasGradient is null ? default : biasGradient.Span, geometry, Threads, Plan.Width);

    public void GatherPositions(Tensor input, IndexTensor map, Tensor output)
        => CpuPositionGather.Forward(input.ReadSpan, map.ReadSpan, output.Span, input.Rows, input.Columns, Threads);

    public void GatherPositionsBackward(Tensor gradOutput, IndexTensor starts, IndexTensor copies, Tensor gradInput)
        => CpuPositionGather.Backward(gradOutput.ReadSpan, starts.ReadSpan, copies.ReadSpan, gradInput.Span, gradInput.Rows, gradInput.Columns, Threads);

    public void MaxPool(Tensor x, Tensor y, IndexTensor argmax, Pool2dGeometry geometry) => CpuPool.MaxForward(x.ReadSpan, y.Span, argmax.Span, geometry, Threads, Plan.Width);

    public void MaxPoolBackward(Tensor dy, IndexTensor argmax, Tensor dx, Pool2dGeometry geometry) => CpuPool.MaxBackward(dy.ReadSpan, argmax.ReadSpan, dx.Span, geometry, Threads, Plan.Width);

    public void AvgPool(Tensor x, Tensor y, Pool2dGeometry geometry) => CpuPool.AvgForward(x.ReadSpan, y.Span, geometry, Threads, Plan.Width);

    public void AvgPoolBackward(Tensor dy, Tensor dx, Pool2dGeometry geometry) => CpuPool.AvgBackward(dy.ReadSpan, dx.Span, geometry, Threads, Plan.Width);

    public void SgdStep(Tensor parameters, Tensor gradients, Tensor momentum, SgdCoefficients coefficients)
        => CpuSgd.Step(parameters.Span, gradients.Span, coefficients.Momentum != 0f ? momentum.Span : default, coefficients, Threads, Plan.Width);

    public void RMSpropStep(Tensor parameters, Tensor gradients, Tensor squareAverage, Tensor momentumBuffer, Tensor gradientAverage, RMSpropCoefficients coefficients)
        => CpuRMSprop.Step(parameters.Span, gradients.Span, squareAverage.Span, coefficients.Momentum != 0f ? momentumBuffer.Span : default, coefficients.Centered != 0 ? gradientAverage.Span : default, coefficients, Threads, Plan.Width);
}
