using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// A 1-d pooling over [N, C, L], max or average (<see cref="MaxPool1d"/>, <see cref="AvgPool1d"/>,
/// <see cref="AdaptiveMaxPool1d"/>, <see cref="AdaptiveAvgPool1d"/>): y [N, C, L_out] pooled over each output's
/// window, in a buffer the module owns. A max pooling keeps, for Backward, the position of each window's maximum as an
/// index in a buffer of its own. The output, those indices and the input gradient grow to the largest shape and are
/// then reused, so a training step allocates nothing. A pooling has no parameters.
/// </summary>
public abstract class Pool1dModule : Module
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
    private Pool1dGeometry windows;

    private protected Pool1dModule(bool max)
    {
        this.max = max;
    }

    /// <summary>y [N, C, L_out] from x [N, C, L].</summary>
    /// <exception cref="ArgumentException">
    /// The input is not [N, C, L], L is 0 or too short for the window (L_out &lt; 1), or the output's N·C·L_out values are
    /// more than int.MaxValue; the message names the layer and the size, and nothing is allocated.
    /// </exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        windows = Windows(input);
        var device = input.Device;
        int n = input.Shape[0], channels = input.Shape[1], outLength = windows.OutputLength;
        var y = outputShaped.Reshaped(output.Get(device, n * channels, outLength), n, channels, outLength);
        if (max)
        {
            savedArgmax = argmax.Get(device, n * channels * outLength);
            Ops.MaxPool1d(input, y, savedArgmax, windows);
        }
        else
        {
            Ops.AvgPool1d(input, y, windows);
        }

        savedInput = input;
        return LastOutput = y;
    }

    /// <summary>
    /// dx [N, C, L] from dy [N, C, L_out] (or its rows [N·C, L_out]): a max pooling's dy at the position of each window's
    /// maximum, an average's dy over the window's divisor at each of its positions inside x, summed where windows share one.
    /// </summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        int n = x.Shape[0], channels = x.Shape[1], length = x.Shape[2];
        var dy = outputGradient.Rank == 3 ? outputGradient : gradientShaped.Reshaped(outputGradient, n, channels, windows.OutputLength);
        var dx = inputGradientShaped.Reshaped(inputGradient.Get(x.Device, n * channels, length), n, channels, length);
        if (max)
        {
            Ops.MaxPool1dBackward(dy, savedArgmax!, dx, windows);
        }
        else
        {
            Ops.AvgPool1dBackward(dy, dx, windows);
        }

        return dx;
    }

    /// <summary>The windows over <paramref name="input"/>, after checking it (<see cref="Pool1dWindows"/>).</summary>
    private protected abstract Pool1dGeometry Windows(Tensor input);

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        output.Dispose();
        inputGradient.Dispose();
        argmax.Dispose();
    }
}
