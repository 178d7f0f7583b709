using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// The checks every pooling module makes, 1-d and 2-d, per axis, each refusal one line naming the layer, the size and,
/// for a 2-d one, the axis; and the windows they give for an input [N, C, L] (<see cref="Pool1dGeometry"/>) or
/// [N, C, H, W] (<see cref="Pool2dGeometry"/>, each axis as a 1-d pooling's), made only once the input has passed them,
/// before anything is allocated.
/// </summary>
internal static class PoolWindows
{
    /// <summary>Refuses a size along either axis of <paramref name="size"/> below <paramref name="minimum"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is out of range.</exception>
    public static void AtLeast(Size2d size, int minimum, string name, string layer)
    {
        AtLeast(size.Height, minimum, name, layer, "H");
        AtLeast(size.Width, minimum, name, layer, "W");
    }

    /// <summary>Refuses a padding below 0 or above k/2 along either axis, which PyTorch refuses too (a window could then hold only padding).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The padding is out of range.</exception>
    public static void CheckPadding(string layer, Size2d padding, Size2d kernelSize)
    {
        CheckPadding(layer, padding.Height, kernelSize.Height, "H");
        CheckPadding(layer, padding.Width, kernelSize.Width, "W");
    }

    /// <summary>Refuses a padding below 0 or above k/2 (along <paramref name="axis"/> of a 2-d pooling), which PyTorch refuses too (a window could then hold only padding).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The padding is out of range.</exception>
    public static void CheckPadding(string layer, int padding, int kernelSize, string? axis = null)
    {
        AtLeast(padding, 0, nameof(padding), layer, axis);
        if (padding > kernelSize / 2)
        {
            string along = axis is null ? "" : $" along {axis}";
            throw new ArgumentOutOfRangeException(nameof(padding), $"{Conv1dGeometry.Owner(layer)} padding{along} must be at most half its kernel size{along} ({kernelSize} / 2 = {kernelSize / 2}); got {padding}.");
        }
    }

    /// <summary>L_out of a sliding window over <paramref name="length"/> positions (<see cref="Pool1dGeometry.OutputLengthOf"/>), 0 when the window does not fit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">L_out is more than int.MaxValue (L = int.MaxValue with padding).</exception>
    public static int OutputLength(int length, int kernelSize, int stride, int padding, int dilation, bool ceilMode)
    {
        long outLength = Pool1dGeometry.OutputLengthOf(length, kernelSize, stride, padding, dilation, ceilMode);
        return outLength <= int.MaxValue
            ? (int)outLength
            : throw new ArgumentOutOfRangeException(nameof(length), $"A pooling of kernel {kernelSize}, stride {stride} and padding {padding} on an input of length {length} gives L_out = {outLength}, more than int.MaxValue.");
    }

    /// <summary>The sliding windows of nn.MaxPool1d or nn.AvgPool1d over <paramref name="input"/>, after checking it.</summary>
    /// <exception cref="ArgumentException">The input is not [N, C, L], L is 0 or shorter than the window, or the output is more than one tensor holds.</exception>
    public static Pool1dGeometry Sliding(string layer, Tensor input, int kernelSize, int stride, int padding, int dilation, bool countIncludePad, bool ceilMode)
    {
        CheckInput(layer, input, rank: 3);
        long outLength = CheckFits(layer, input, 2, "length", kernelSize, stride, padding, dilation, ceilMode);
        CheckOutputFits(layer, input, outLength, "L_out");
        return Pool1dGeometry.Sliding(input.Shape[0] * input.Shape[1], input.Shape[2], kernelSize, stride, padding, dilation, countIncludePad, ceilMode);
    }

    /// <summary>The sliding windows of nn.MaxPool2d or nn.AvgPool2d over <paramref name="input"/>, after checking it.</summary>
    /// <exception cref="ArgumentException">The input is not [N, C, H, W], H or W is 0 or shorter than the window, or the output is more than one tensor holds.</exception>
    public static Pool2dGeometry Sliding(string layer, Tensor input, Size2d kernelSize, Size2d stride, Size2d padding, Size2d dilation, bool countIncludePad, bool ceilMode)
    {
        CheckInput(layer, input, rank: 4);
        long outHeight = CheckFits(layer, input, 2, "height", kernelSize.Height, stride.Height, padding.Height, dilation.Height, ceilMode);
        long outWidth = CheckFits(layer, input, 3, "width", kernelSize.Width, stride.Width, padding.Width, dilation.Width, ceilMode);
        CheckOutputFits(layer, input, outHeight * outWidth, "H_out·W_out");
        return new(
            input.Shape[0] * input.Shape[1],
            Pool1dGeometry.Sliding(1, input.Shape[2], kernelSize.Height, stride.Height, padding.Height, dilation.Height, countIncludePad, ceilMode),
            Pool1dGeometry.Sliding(1, input.Shape[3], kernelSize.Width, stride.Width, padding.Width, dilation.Width, countIncludePad, ceilMode));
    }

    /// <summary>The adaptive windows of nn.AdaptiveMaxPool1d or nn.AdaptiveAvgPool1d over <paramref name="input"/>, after checking it.</summary>
    /// <exception cref="ArgumentException">The input is not [N, C, L], L is 0, or the output is more than one tensor holds.</exception>
    public static Pool1dGeometry Adaptive(string layer, Tensor input, int outputSize)
    {
        CheckInput(layer, input, rank: 3);
        CheckOutputFits(layer, input, outputSize, "L_out");
        return Pool1dGeometry.AdaptiveWindows(input.Shape[0] * input.Shape[1], input.Shape[2], outputSize);
    }

    /// <summary>The adaptive windows of nn.AdaptiveMaxPool2d or nn.AdaptiveAvgPool2d over <paramref name="input"/>, after checking it.</summary>
    /// <exception cref="ArgumentException">The input is not [N, C, H, W], H or W is 0, or the output is more than one tensor holds.</exception>
    public static Pool2dGeometry Adaptive(string layer, Tensor input, Size2d outputSize)
    {
        CheckInput(layer, input, rank: 4);
        CheckOutputFits(layer, input, (long)outputSize.Height * outputSize.Width, "H_out·W_out");
        return new(
            input.Shape[0] * input.Shape[1],
            Pool1dGeometry.AdaptiveWindows(1, input.Shape[2], outputSize.Height),
            Pool1dGeometry.AdaptiveWindows(1, input.Shape[3], outputSize.Width));
    }

    private static void AtLeast(int value, int minimum, string name, string layer, string? axis)
    {
        if (axis is null)
        {
            Conv1dGeometry.AtLeast(value, minimum, name, layer);
        }
        else if (value < minimum)
        {
            throw new ArgumentOutOfRangeException(name, $"{Conv1dGeometry.Owner(layer)} {name} along {axis} must be at least {minimum}; got {value}.");
        }
    }

    private static void CheckInput(string layer, Tensor input, int rank)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool empty = false;
        for (int d = 2; d < input.Rank; d++)
        {
            empty |= input.Shape[d] == 0;
        }

        if (input.Rank != rank || empty)
        {
            // As torch.nn's poolings: only the batch or the channels may be empty, not the positions.
            string takes = rank == 3 ? "[N, C, L] with L at least 1" : "[N, C, H, W] with H and W at least 1";
            throw new ArgumentException($"{layer} takes input {takes} but got a tensor of shape {input.ShapeText}.", nameof(input));
        }
    }

    // The output length along dimension `dim` of the input, refused when no window fits.
    private static long CheckFits(string layer, Tensor input, int dim, string axis, int kernelSize, int stride, int padding, int dilation, bool ceilMode)
    {
        long outLength = Pool1dGeometry.OutputLengthOf(input.Shape[dim], kernelSize, stride, padding, dilation, ceilMode);
        if (outLength < 1)
        {
            // The shortest L whose span L + 2·padding − dilation·(k − 1) − 1 is at least 0, or 1 − stride in ceil mode.
            long minimum = ((long)dilation * (kernelSize - 1)) + 1 - (2L * padding) - (ceilMode ? stride - 1 : 0);
            throw new ArgumentException($"{layer} needs an input {axis} of at least {minimum} but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        return outLength;
    }

    // The output is [N·C, outputs] inside, so outputs must fit an int even when N·C is 0 and the output has no values.
    private static void CheckOutputFits(string layer, Tensor input, long outputs, string perPlane)
    {
        if (outputs > int.MaxValue)
        {
            throw new ArgumentException($"{layer} on a tensor of shape {input.ShapeText} needs {perPlane} = {outputs} values per channel, more than one tensor row holds ({int.MaxValue}).", nameof(input));
        }

        long values = (long)input.Shape[0] * input.Shape[1] * outputs;
        if (values > int.MaxValue)
        {
            throw new ArgumentException($"{layer} on a tensor of shape {input.ShapeText} needs N·C·{perPlane} = {values} values for the output, more than one tensor holds ({int.MaxValue}).", nameof(input));
        }
    }
}
