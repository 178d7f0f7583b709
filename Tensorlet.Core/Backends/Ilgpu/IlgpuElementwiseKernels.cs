using ILGPU;
using ILGPU.Runtime;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// The elementwise, gather/scatter, bias, reduction, dropout and Adam kernels, the first stage of the layer norm's
/// weight gradient, the batch norm's kernels, the convolution's unfold and fold, the gather of positions (a padding mode) and its backward, and the poolings, each compiled and loaded on one accelerator the first time it is used (loading costs about 300 ms
/// per kernel on CUDA), bound to the default stream; plus the scratch buffers of the two-stage reductions, grown on
/// demand and then reused.
/// </summary>
internal sealed class IlgpuElementwiseKernels : IDisposable
{
    private readonly Accelerator accelerator;
    private Action<Index1D, ArrayView<float>, float>? fill;
    private Action<Index1D, ArrayView<float>, float>? scale;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int>? activationForward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>? activationBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, float>? leakyReluForward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>? leakyReluBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>? gather;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>? scatterAdd;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int>? scatterAddTransposed;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int>? addTransposed;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int>? fillRows;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int>? addBias;
    private Action<Index1D, ArrayView<float>, ArrayView<double>, int, int>? sumColumnsPartial;
    private Action<Index1D, ArrayView<double>, ArrayView<float>, int, int, int>? sumColumnsFinish;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int>? layerNormWeightGradientPartial;
    private Action<Index1D, ArrayView<float>, ArrayView<double>>? sumOfSquaresPartial;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, float, float>? elementwiseLossPartial;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout>? batchNormSumsPartial;
    private Action<Index1D, ArrayView<double>, ArrayView<float>, BatchNormLayout>? batchNormShift;
    private Action<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormLayout, float>? batchNormFinish;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormLayout, float>? batchNormNormalize;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout, float>? batchNormGradientSumsPartial;
    private Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>, BatchNormLayout>? batchNormGradientSumsFinish;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout, float, int>? batchNormInputGradient;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, float, float, ulong, ulong>? dropout;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamCoefficients>? adam;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>? addScaled;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>? multiply;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int>? scaleRows;
    private Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>>? gatherIndices;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, int>? argmax;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>? gatherRows;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdCoefficients>? sgd;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RMSpropCoefficients>? rmsprop;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Conv1dGeometry>? unfold;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Conv1dGeometry>? fold;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Conv2dGeometry>? unfold2d;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Conv2dGeometry>? fold2d;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry>? depthwiseConv1d;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry>? depthwiseConv1dBackwardInput;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, DepthwiseConv1dGeometry, int, int, int>? depthwiseConv1dBackwardWeightPartial;
    private Action<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry, int>? depthwiseConv1dBackwardWeightFinish;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>? gatherPositions;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int>? gatherPositionsBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, Pool2dGeometry>? maxPool;
    private Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, Pool2dGeometry>? maxPoolBackward;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Pool2dGeometry>? avgPool;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, Pool2dGeometry>? avgPoolBackward;
    private MemoryBuffer1D<double, Stride1D.Dense>? scratch;
    private MemoryBuffer1D<float, Stride1D.Dense>? floatScratch;

    public IlgpuElementwiseKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
    }

    public Action<Index1D, ArrayView<float>, float> Fill
        => fill ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(ElementwiseKernels.Fill);

    public Action<Index1D, ArrayView<float>, float> Scale
        => scale ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float>(ElementwiseKernels.Scale);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> ActivationForward
        => activationForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationForward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> ActivationBackward
        => activationBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ElementwiseKernels.ActivationBackward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, float> LeakyReluForward
        => leakyReluForward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(ElementwiseKernels.LeakyReluForward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float> LeakyReluBackward
        => leakyReluBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(ElementwiseKernels.LeakyReluBackward);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int> Gather
        => gather ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int>(GatherScatterKernels.Gather);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> ScatterAdd
        => scatterAdd ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(GatherScatterKernels.ScatterAdd);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int> ScatterAddTransposed
        => scatterAddTransposed ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int>(GatherScatterKernels.ScatterAddTransposed);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> AddTransposed
        => addTransposed ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(GatherScatterKernels.AddTransposed);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> FillRows
        => fillRows ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(BiasKernels.FillRows);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> AddBias
        => addBias ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(BiasKernels.AddBias);

    public Action<Index1D, ArrayView<float>, ArrayView<double>, int, int> SumColumnsPartial
        => sumColumnsPartial ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, int, int>(BiasKernels.SumColumnsPartial);

    public Action<Index1D, ArrayView<double>, ArrayView<float>, int, int, int> SumColumnsFinish
        => sumColumnsFinish ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, int, int, int>(BiasKernels.SumColumnsFinish);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int> LayerNormWeightGradientPartial
        => layerNormWeightGradientPartial ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int>(
            LayerNormKernels.WeightGradientPartial);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout> BatchNormSumsPartial
        => batchNormSumsPartial ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout>(BatchNormKernels.SumsPartial);

    public Action<Index1D, ArrayView<double>, ArrayView<float>, BatchNormLayout> BatchNormShift
        => batchNormShift ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, BatchNormLayout>(BatchNormKernels.Shift);

    public Action<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormLayout, float> BatchNormFinish
        => batchNormFinish ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormLayout, float>(
            BatchNormKernels.Finish);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormLayout, float> BatchNormNormalize
        => batchNormNormalize ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, BatchNormLayout, float>(
            BatchNormKernels.Normalize);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout, float> BatchNormGradientSumsPartial
        => batchNormGradientSumsPartial ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout, float>(
            BatchNormKernels.GradientSumsPartial);

    public Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>, BatchNormLayout> BatchNormGradientSumsFinish
        => batchNormGradientSumsFinish ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>, BatchNormLayout>(
            BatchNormKernels.GradientSumsFinish);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout, float, int> BatchNormInputGradient
        => batchNormInputGradient ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, BatchNormLayout, float, int>(
            BatchNormKernels.InputGradient);

    public Action<Index1D, ArrayView<float>, ArrayView<double>> SumOfSquaresPartial
        => sumOfSquaresPartial ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>>(ReductionKernels.SumOfSquaresPartial);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, float, float> ElementwiseLossPartial
        => elementwiseLossPartial ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, float, float>(ElementwiseLossKernels.Partial);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, float, float, ulong, ulong> Dropout
        => dropout ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, float, ulong, ulong>(DropoutKernel.Apply);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamCoefficients> Adam
        => adam ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamCoefficients>(AdamKernel.Step);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float> AddScaled
        => addScaled ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(RowKernels.AddScaled);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> Multiply
        => multiply ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(RowKernels.Multiply);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, int> ScaleRows
        => scaleRows ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(RowKernels.ScaleRows);

    public Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>> GatherIndices
        => gatherIndices ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>>(RowKernels.GatherIndices);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, int> Argmax
        => argmax ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int>(RowKernels.Argmax);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> GatherRows
        => gatherRows ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(RowKernels.GatherRows);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdCoefficients> Sgd
        => sgd ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdCoefficients>(RowKernels.SgdStep);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RMSpropCoefficients> RMSprop
        => rmsprop ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RMSpropCoefficients>(RMSpropKernel.Step);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, Conv1dGeometry> Unfold
        => unfold ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Conv1dGeometry>(UnfoldKernels.Unfold);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, Conv1dGeometry> Fold
        => fold ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Conv1dGeometry>(UnfoldKernels.Fold);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, Conv2dGeometry> Unfold2d
        => unfold2d ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Conv2dGeometry>(Unfold2dKernels.Unfold);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, Conv2dGeometry> Fold2d
        => fold2d ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Conv2dGeometry>(Unfold2dKernels.Fold);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry> DepthwiseConv1d
        => depthwiseConv1d ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry>(DepthwiseConv1dKernels.Forward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry> DepthwiseConv1dBackwardInput
        => depthwiseConv1dBackwardInput ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry>(DepthwiseConv1dKernels.BackwardInput);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, DepthwiseConv1dGeometry, int, int, int> DepthwiseConv1dBackwardWeightPartial
        => depthwiseConv1dBackwardWeightPartial ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<double>, DepthwiseConv1dGeometry, int, int, int>(
            DepthwiseConv1dKernels.BackwardWeightPartial);

    public Action<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry, int> DepthwiseConv1dBackwardWeightFinish
        => depthwiseConv1dBackwardWeightFinish ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<float>, ArrayView<float>, DepthwiseConv1dGeometry, int>(
            DepthwiseConv1dKernels.BackwardWeightFinish);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> GatherPositions
        => gatherPositions ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(PositionGatherKernels.Forward);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int> GatherPositionsBackward
        => gatherPositionsBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, int>(PositionGatherKernels.Backward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, Pool2dGeometry> MaxPool
        => maxPool ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, Pool2dGeometry>(PoolKernels.MaxForward);

    public Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, Pool2dGeometry> MaxPoolBackward
        => maxPoolBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, Pool2dGeometry>(PoolKernels.MaxBackward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, Pool2dGeometry> AvgPool
        => avgPool ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Pool2dGeometry>(PoolKernels.AvgForward);

    public Action<Index1D, ArrayView<float>, ArrayView<float>, Pool2dGeometry> AvgPoolBackward
        => avgPoolBackward ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, Pool2dGeometry>(PoolKernels.AvgBackward);

    /// <summary>A double scratch view of at least <paramref name="length"/> elements, valid until the next call.</summary>
    public ArrayView<double> Scratch(long length)
    {
        if (scratch is null || scratch.Length < length)
        {
            if (scratch is not null)
            {
                // A queued kernel may still read the old buffer.
                accelerator.Synchronize();
                scratch.Dispose();
            }

            scratch = accelerator.Allocate1D<double>(Math.Max(length, 1024));
        }

        return scratch.View.SubView(0, length);
    }

    /// <summary>A float scratch view of at least <paramref name="length"/> elements, valid until the next call.</summary>
    public ArrayView<float> FloatScratch(long length)
    {
        if (floatScratch is null || floatScratch.Length < length)
        {
            if (floatScratch is not null)
            {
                accelerator.Synchronize();
                floatScratch.Dispose();
            }

            floatScratch = accelerator.Allocate1D<float>(Math.Max(length, 1024));
        }

        return floatScratch.View.SubView(0, length);
    }

    public void Dispose()
    {
        scratch?.Dispose();
        floatScratch?.Dispose();
    }
}
