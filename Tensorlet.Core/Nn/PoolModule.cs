using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// A pooling, 1-d or 2-d (<see cref="Pool1dModule"/>, <see cref="Pool2dModule"/>), max or average: y [N, C, L_out] or
/// [N, C, H_out, W_out] pooled over each output's window, in a buffer the module owns. One pass serves both, a 1-d
/// pooling's windows being those of a 2-d one of height 1. A max pooling keeps, for Backward, the position of each
/// window's maximum as an index in a buffer of its own. The output, those indices and the input gradient grow to the
/// largest shape and are then reused, so a training step allocates nothing. A pooling has no parameters.
/// </summary>
public abstract class PoolModule : Module
{
    private readonly bool max;
    private readonly Workspace output = new();
    private readonly Workspace inputGradient = new();
    private readonly IndexWorkspace argmax = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientShaped = new();
    private readonly ShapeView inputGradientShaped = new();
    private Tensor? savedInput;
    private IndexTensor? savedArgmax;
    private Pool2dGeometry windows;

    private protected PoolModule(bool max)
    {
        this.max = max;
    }

    /// <summary>y [N, C, L_out] from x [N, C, L] (a 1-d pooling), or y [N, C, H_out, W_out] from x [N, C, H, W] (a 2-d one).</summary>
    /// <exception cref="ArgumentException">
    /// The input is not of the pooling's rank, a position axis is 0 or too short for the window, or the output's values
    /// are more than int.MaxValue; the message names the layer, the axis and the size, and nothing is allocated.
    /// </exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        windows = Windows(input);
        var device = input.Device;
        int n = input.Shape[0], channels = input.Shape[1];
        var planes = output.Get(device, n * channels, windows.OutputSize);
        var y = input.Rank == 3
            ? outputShaped.Reshaped(planes, n, channels, windows.Width.OutputLength)
            : outputShaped.Reshaped(planes, n, channels, windows.Height.OutputLength, windows.Width.OutputLength);
        if (max)
        {
            savedArgmax = argmax.Get(device, n * channels * windows.OutputSize);
            Ops.MaxPool(input, y, savedArgmax, windows);
        }
        else
        {
            Ops.AvgPool(input, y, windows);
        }

        savedInput = input;
        return LastOutput = y;
    }

    /// <summary>
    /// dx, shaped as x, from dy shaped as y (or as y's rows by its last dimension): a max pooling's dy at the position of
    /// each window's maximum, an average's dy over the window's divisor at each of its positions inside x, summed where
    /// windows share one.
    /// </summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var y = LastOutput!;
        var dy = outputGradient.Rank == y.Rank ? outputGradient : gradientShaped.Like(outputGradient, y, y.Shape[^1]);
        var dx = inputGradientShaped.Like(inputGradient.Get(x.Device, x.Shape[0] * x.Shape[1], windows.InputSize), x, x.Shape[^1]);
        if (max)
        {
            Ops.MaxPoolBackward(dy, savedArgmax!, dx, windows);
        }
        else
        {
            Ops.AvgPoolBackward(dy, dx, windows);
        }

        return dx;
    }

    /// <summary>The windows over <paramref name="input"/>, after checking it (<see cref="PoolWindows"/>); a 1-d pooling's of height 1.</summary>
    private protected abstract Pool2dGeometry Windows(Tensor input);

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        output.Dispose();
        inputGradient.Dispose();
        argmax.Dispose();
    }
}
