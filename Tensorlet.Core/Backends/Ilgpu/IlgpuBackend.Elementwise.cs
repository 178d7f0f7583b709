using ILGPU;
using ILGPU.Runtime;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Backends.Ilgpu;

internal sealed partial class IlgpuBackend
{
    // The host's copy of a sum's partials (SumPartials); sums run on the one stream, one at a time.
    private double[] sumHost = [];

    // Threads of the first Σx² stage: enough to fill a GPU, few enough that the host reads back only 32 KiB.
    private const int SumOfSquaresThreadsGpu = 4096;

    // On ILGPU's CPU accelerator each thread is costly to start, and there are only a few cores.
    private const int SumOfSquaresThreadsCpu = 64;

    private IlgpuElementwiseKernels? elementwiseKernels;

    private IlgpuElementwiseKernels Elementwise => elementwiseKernels ??= new IlgpuElementwiseKernels(Accelerator);

    public void Fill(Tensor x, float value)
    {
        if (x.Length > 0)
        {
            Elementwise.Fill(Extent(x.Length), x.View, value);
        }
    }

    public void Copy(Tensor source, Tensor destination)
    {
        if (source.Length > 0 && !(ReferenceEquals(source.Storage, destination.Storage) && source.Offset == destination.Offset))
        {
            source.View.CopyTo(Accelerator.DefaultStream, destination.View);
        }
    }

    public void Scale(Tensor x, float alpha)
    {
        if (x.Length > 0)
        {
            Elementwise.Scale(Extent(x.Length), x.View, alpha);
        }
    }

    public double SumOfSquares(Tensor x)
    {
        if (x.Length == 0)
        {
            return 0;
        }

        int threads = SumThreads(x.Length);
        var partials = Elementwise.Scratch(threads);
        Elementwise.SumOfSquaresPartial(threads, x.View, partials);
        return SumPartials(partials, threads);
    }

    public double ElementwiseLoss(ElementwiseLossKind loss, float parameter, Tensor x, Tensor y, Tensor? posWeight, Tensor gradient, float gradScale)
    {
        if (x.Length == 0)
        {
            return 0;
        }

        int threads = SumThreads(x.Length);
        var partials = Elementwise.Scratch(threads);
        Elementwise.ElementwiseLossPartial(threads, x.View, y.View, posWeight?.View ?? ArrayView<float>.Empty, gradient.View, partials, (int)loss, parameter, gradScale);
        return SumPartials(partials, threads);
    }

    // The first stage's threads of a sum over `length` elements.
    private int SumThreads(long length) => (int)Math.Min(length, IsCpuAccelerator ? SumOfSquaresThreadsCpu : SumOfSquaresThreadsGpu);

    // The second stage, on the host, which needs the value anyway: the first `count` partials added in order, read into a
    // grow-only host array, so a loss or a clipping norm per batch allocates none.
    private double SumPartials(ArrayView<double> partials, int count)
    {
        if (sumHost.Length < count)
        {
            sumHost = new double[count];
        }

        var host = sumHost.AsSpan(0, count);
        partials.SubView(0, count).CopyToCPU(Accelerator.DefaultStream, host);
        Accelerator.DefaultStream.Synchronize();
        double sum = 0;
        foreach (var partial in host)
        {
            sum += partial;
        }

        return sum;
    }

    public void GatherColumns(Tensor weight, IndexTensor indices, Tensor output, Tensor? bias)
    {
        if (output.Length > 0)
        {
            Elementwise.Gather(Extent(output.Length), weight.View, indices.View, bias?.View ?? ArrayView<float>.Empty, output.View, weight.Rows, weight.Columns);
        }
    }

    public void ScatterAddColumns(Tensor gradOutput, IndexTensor indices, Tensor gradWeight)
    {
        if (gradOutput.Length == 0)
        {
            return;
        }

        int outFeatures = gradWeight.Rows;
        int inFeatures = gradWeight.Columns;

        // Through an [In, Out] scratch when rows outnumber the columns they pick from (see GatherScatterKernels).
        if (2L * inFeatures <= indices.Length)
        {
            var transposed = Elementwise.FloatScratch(gradWeight.Length);
            transposed.MemSetToZero(Accelerator.DefaultStream);
            Elementwise.ScatterAddTransposed(Extent(gradOutput.Length), gradOutput.View, indices.View, transposed, outFeatures, inFeatures, -1);
            Elementwise.AddTransposed(Extent(gradWeight.Length), transposed, gradWeight.View, outFeatures, inFeatures);
        }
        else
        {
            Elementwise.ScatterAdd(Extent(gradOutput.Length), gradOutput.View, indices.View, gradWeight.View, outFeatures, inFeatures);
        }
    }

    public void FillRows(Tensor x, Tensor row)
    {
        if (x.Length > 0 && row.Length > 0)
        {
            Elementwise.FillRows(Extent(x.Length), x.View, row.View, (int)row.Length);
        }
    }

    public void AddBias(Tensor x, Tensor bias)
    {
        if (x.Length > 0 && bias.Length > 0)
        {
            Elementwise.AddBias(Extent(x.Length), x.View, bias.View, (int)bias.Length);
        }
    }

    public void SumColumns(Tensor x, Tensor result, bool accumulate)
    {
        int columns = (int)result.Length;
        if (columns == 0)
        {
            return;
        }

        int rows = (int)(x.Length / columns);
        int blocks = Math.Max(1, (rows + BiasKernels.RowsPerBlock - 1) / BiasKernels.RowsPerBlock);
        var partials = Elementwise.Scratch((long)blocks * columns);
        if (rows == 0)
        {
            partials.MemSetToZero(Accelerator.DefaultStream);
        }
        else
        {
            Elementwise.SumColumnsPartial(Extent((long)blocks * columns), x.View, partials, rows, columns);
        }

        Elementwise.SumColumnsFinish(columns, partials, result.View, blocks, columns, accumulate ? 1 : 0);
    }

    public void ActivationForward(Activation activation, Tensor x, Tensor y)
    {
        if (x.Length > 0)
        {
            Elementwise.ActivationForward(Extent(x.Length), x.View, y.View, (int)activation);
        }
    }

    public void ActivationBackward(Activation activation, Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        if (y.Length > 0)
        {
            Elementwise.ActivationBackward(Extent(y.Length), x.View, y.View, dy.View, dx.View, (int)activation);
        }
    }

    public void LeakyReluForward(Tensor x, Tensor y, float negativeSlope)
    {
        if (x.Length > 0)
        {
            Elementwise.LeakyReluForward(Extent(x.Length), x.View, y.View, negativeSlope);
        }
    }

    public void LeakyReluBackward(Tensor x, Tensor dy, Tensor dx, float negativeSlope)
    {
        if (x.Length > 0)
        {
            Elementwise.LeakyReluBackward(Extent(x.Length), x.View, dy.View, dx.View, negativeSlope);
        }
    }

    public void Dropout(Tensor x, Tensor y, float p, ulong seed, ulong stream)
    {
        if (x.Length == 0)
        {
            return;
        }

        if (p == 0f)
        {
            Copy(x, y);
            return;
        }

        Elementwise.Dropout(Extent((x.Length + 31) / 32 * 8), x.View, y.View, p, DropoutMask.KeepScale(p), seed, stream);
    }

    public void AdamStep(Tensor parameters, Tensor gradients, Tensor m, Tensor v, Tensor vMax, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool amsgrad, int step)
    {
        if (parameters.Length > 0)
        {
            Elementwise.Adam(Extent(parameters.Length), parameters.View, gradients.View, m.View, v.View, amsgrad ? vMax.View : parameters.View, AdamCoefficients.For(learningRate, beta1, beta2, epsilon, weightDecay, amsgrad, step));
        }
    }

    // The kernels index with int: a tensor past 2^31 elements would need long indices throughout.
    private static Index1D Extent(long length) => new(checked((int)length));

    public void Add(Tensor a, Tensor b, Tensor y, float alpha)
    {
        if (y.Length > 0)
        {
            Elementwise.AddScaled(Extent(y.Length), a.View, b.View, y.View, alpha);
        }
    }

    public void Multiply(Tensor a, Tensor b, Tensor y)
    {
        if (y.Length > 0)
        {
            Elementwise.Multiply(Extent(y.Length), a.View, b.View, y.View);
        }
    }

    public void ScaleRows(Tensor x, Tensor scale)
    {
        if (x.Length > 0)
        {
            Elementwise.ScaleRows(Extent(x.Length), x.View, scale.View, x.Columns);
        }
    }

    public void GatherIndices(IndexTensor source, IndexTensor positions, IndexTensor output)
    {
        if (output.Length > 0)
        {
            Elementwise.GatherIndices(Extent(output.Length), source.View, positions.View, output.View);
        }
    }

    public void ArgmaxRows(Tensor x, IndexTensor result)
    {
        if (x.Length > 0)
        {
            Elementwise.Argmax(Extent(x.Rows), x.View, result.View, x.Columns);
        }
    }

    public void GatherRows(Tensor table, IndexTensor indices, Tensor output)
    {
        if (output.Length > 0)
        {
            Elementwise.GatherRows(Extent(output.Length), table.View, indices.View, output.View, table.Rows, table.Columns);
        }
    }

    public void ScatterAddRows(Tensor gradOutput, IndexTensor indices, Tensor gradTable, int skipRow)
    {
        // Row i of gradOutput adds into row indices[i]: the transposed-scatter kernel with the table as its [In, Out] target.
        if (gradOutput.Length > 0)
        {
            Elementwise.ScatterAddTransposed(Extent(gradOutput.Length), gradOutput.View, indices.View, gradTable.View, gradTable.Columns, gradTable.Rows, skipRow);
        }
    }

    public void Unfold1d(Tensor x, Tensor columns, Conv1dGeometry geometry)
    {
        if (columns.Length > 0)
        {
            Elementwise.Unfold(Extent(columns.Length), x.View, columns.View, geometry);
        }
    }

    public void Fold1d(Tensor columns, Tensor x, Conv1dGeometry geometry)
    {
        if (x.Length > 0)
        {
            Elementwise.Fold(Extent(x.Length), columns.View, x.View, geometry);
        }
    }

    public void Unfold2d(Tensor x, Tensor columns, Conv2dGeometry geometry)
    {
        if (columns.Length > 0)
        {
            Elementwise.Unfold2d(Extent(columns.Length), x.View, columns.View, geometry);
        }
    }

    public void Fold2d(Tensor columns, Tensor x, Conv2dGeometry geometry)
    {
        if (x.Length > 0)
        {
            Elementwise.Fold2d(Extent(x.Length), columns.View, x.View, geometry);
        }
    }

    public void DepthwiseConv1d(Tensor x, Tensor weight, Tensor? bias, Tensor y, DepthwiseConv1dGeometry geometry)
    {
        if (y.Length > 0)
        {
            Elementwise.DepthwiseConv1d(Extent(y.Length), x.View, weight.View, bias?.View ?? ArrayView<float>.Empty, y.View, geometry);
        }
    }

    public void DepthwiseConv1dBackwardInput(Tensor dy, Tensor weight, Tensor dx, DepthwiseConv1dGeometry geometry)
    {
        if (dx.Length > 0)
        {
            Elementwise.DepthwiseConv1dBackwardInput(Extent(dx.Length), dy.View, weight.View, dx.View, geometry);
        }
    }

    public void DepthwiseConv1dBackwardWeight(Tensor x, Tensor dy, Tensor weightGradient, Tensor? biasGradient, DepthwiseConv1dGeometry geometry)
    {
        // Two stages through the double scratch (see DepthwiseConv1dKernels): partials per (output channel, block of rows,
        // tap), then one thread per (output channel, tap), the bias's after the k taps.
        if (dy.Length == 0)
        {
            return;
        }

        // Blocks of RowsPerBlock rows, or longer for a long kernel, so that the partials (k + 1 per block and output
        // channel) stay within a sixteenth of dy's floats: the scratch, which the backend keeps, is at most dy's bytes / 8.
        int rows = geometry.Input.Rows, taps = geometry.Input.KernelSize + 1;
        int rowsPerBlock = Math.Max(BiasKernels.RowsPerBlock, 16 * taps);
        int blocks = (rows + rowsPerBlock - 1) / rowsPerBlock;
        long sums = (long)geometry.OutputChannels * taps;
        var partials = Elementwise.Scratch(sums * blocks);
        Elementwise.DepthwiseConv1dBackwardWeightPartial(Extent(sums * blocks), x.View, dy.View, partials, geometry, blocks, rowsPerBlock, biasGradient is null ? 0 : 1);
        Elementwise.DepthwiseConv1dBackwardWeightFinish(
            Extent(sums), partials, weightGradient.View, biasGradient?.View ?? ArrayView<float>.Empty, geometry, blocks);
    }

    public void GatherPositions(Tensor input, IndexTensor map, Tensor output)
    {
        if (output.Length > 0)
        {
            Elementwise.GatherPositions(Extent(output.Length), input.View, map.View, output.View, input.Columns);
        }
    }

    public void GatherPositionsBackward(Tensor gradOutput, IndexTensor starts, IndexTensor copies, Tensor gradInput)
    {
        if (gradInput.Length > 0)
        {
            Elementwise.GatherPositionsBackward(Extent(gradInput.Length), gradOutput.View, starts.View, copies.View, gradInput.View, gradInput.Columns);
        }
    }

    public void MaxPool(Tensor x, Tensor y, IndexTensor argmax, Pool2dGeometry geometry)
    {
        if (y.Length > 0)
        {
            Elementwise.MaxPool(Extent(y.Length), x.View, y.View, argmax.View, geometry);
        }
    }

    public void MaxPoolBackward(Tensor dy, IndexTensor argmax, Tensor dx, Pool2dGeometry geometry)
    {
        if (dx.Length > 0)
        {
            Elementwise.MaxPoolBackward(Extent(dx.Length), dy.View, argmax.View, dx.View, geometry);
        }
    }

    public void AvgPool(Tensor x, Tensor y, Pool2dGeometry geometry)
    {
        if (y.Length > 0)
        {
            Elementwise.AvgPool(Extent(y.Length), x.View, y.View, geometry);
        }
    }

    public void AvgPoolBackward(Tensor dy, Tensor dx, Pool2dGeometry geometry)
    {
        if (dx.Length > 0)
        {
            Elementwise.AvgPoolBackward(Extent(dx.Length), dy.View, dx.View, geometry);
        }
    }

    public void SgdStep(Tensor parameters, Tensor gradients, Tensor momentum, SgdCoefficients coefficients)
    {
        if (parameters.Length > 0)
        {
            Elementwise.Sgd(Extent(parameters.Length), parameters.View, gradients.View, coefficients.Momentum != 0f ? momentum.View : parameters.View, coefficients);
        }
    }

    public void RMSpropStep(Tensor parameters, Tensor gradients, Tensor squareAverage, Tensor momentumBuffer, Tensor gradientAverage, RMSpropCoefficients coefficients)
    {
        if (parameters.Length > 0)
        {
            Elementwise.RMSprop(Extent(parameters.Length), parameters.View, gradients.View, squareAverage.View, coefficients.Momentum != 0f ? momentumBuffer.View : parameters.View, coefficients.Centered != 0 ? gradientAverage.View : parameters.View, coefficients);
        }
    }
}
