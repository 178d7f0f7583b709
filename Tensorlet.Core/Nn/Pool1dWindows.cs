using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// The checks every 1-d pooling module makes, each refusal one line naming the layer and the size, and the windows
/// (<see cref="Pool1dGeometry"/>) they give for an input [N, C, L], made only once the input has passed them, before
/// anything is allocated.
/// </summary>
internal static class Pool1dWindows
{
    /// <summary>Refuses a padding below 0 or above k/2, which PyTorch refuses too (a window could then hold only padding).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The padding is out of range.</exception>
    public static void CheckPadding(string layer, int padding, int kernelSize)
    {
        Conv1dGeometry.AtLeast(padding, 0, nameof(padding), layer);
        if (padding > kernelSize / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(padding), $"{Conv1dGeometry.Owner(layer)} padding must be at most half its kernel size ({kernelSize} / 2 = {kernelSize / 2}); got {padding}.");
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
        CheckInput(layer, input);
        int length = input.Shape[2];
        long outLength = Pool1dGeometry.OutputLengthOf(length, kernelSize, stride, padding, dilation, ceilMode);
        if (outLength < 1)
        {
            // The shortest L whose span L + 2·padding − dilation·(k − 1) − 1 is at least 0, or 1 − stride in ceil mode.
            long minimum = ((long)dilation * (kernelSize - 1)) + 1 - (2L * padding) - (ceilMode ? stride - 1 : 0);
            throw new ArgumentException($"{layer} needs an input length of at least {minimum} but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        CheckOutputFits(layer, input, outLength);
        return Pool1dGeometry.Sliding(input.Shape[0] * input.Shape[1], length, kernelSize, stride, padding, dilation, countIncludePad, ceilMode);
    }

    /// <summary>The adaptive windows of nn.AdaptiveMaxPool1d or nn.AdaptiveAvgPool1d over <paramref name="input"/>, after checking it.</summary>
    /// <exception cref="ArgumentException">The input is not [N, C, L], L is 0, or the output is more than one tensor holds.</exception>
    public static Pool1dGeometry Adaptive(string layer, Tensor input, int outputSize)
    {
        CheckInput(layer, input);
        CheckOutputFits(layer, input, outputSize);
        return Pool1dGeometry.AdaptiveWindows(input.Shape[0] * input.Shape[1], input.Shape[2], outputSize);
    }

    private static void CheckInput(string layer, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Shape[2] == 0)
        {
            // As torch.nn's poolings: only the batch or the channels may be empty, not the positions.
            throw new ArgumentException($"{layer} takes input [N, C, L] with L at least 1 but got a tensor of shape {input.ShapeText}.", nameof(input));
        }
    }

    private static void CheckOutputFits(string layer, Tensor input, long outLength)
    {
        long values = (long)input.Shape[0] * input.Shape[1] * outLength;
        if (values > int.MaxValue)
        {
            throw new ArgumentException($"{layer} on a tensor of shape {input.ShapeText} needs N·C·L_out = {values} values for the output, more than one tensor holds ({int.MaxValue}).", nameof(input));
        }
    }
}
