using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.MaxPool2d: y [N, C, H_out, W_out] = the maximum over the window x[n, c, oh·stride_h − padding_h + i·dilation_h,
/// ow·stride_w − padding_w + j·dilation_w], i &lt; k_h, j &lt; k_w, of x [N, C, H, W], each of H_out and W_out as
/// <see cref="MaxPool1d"/>'s L_out along its axis (with <c>ceilMode</c> rounded up, less one where the last window would
/// start in the right padding). Padded positions are −∞, so they are never the maximum. A window holding a NaN gives
/// NaN, as in PyTorch. Backward routes each output's gradient to the position of its maximum (the first one in the
/// window, row by row, as PyTorch on the CPU; the last NaN where there is one), kept as indices in a buffer of the
/// module's own. Each size is an int for both axes or a (height, width) pair (<see cref="Size2d"/>). It has no parameters.
/// </summary>
public sealed class MaxPool2d : Pool2dModule
{
    private readonly string description;

    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">(k_h, k_w), the taps of the window along each axis.</param>
    /// <param name="stride">The step between windows; null (the default) for the kernel size, as nn.MaxPool2d's <c>stride=None</c>.</param>
    /// <param name="padding">The −∞ added on each side of the input along each axis, at most half the kernel size there, as PyTorch requires.</param>
    /// <param name="dilation">The step between the window's taps; null (the default) for 1.</param>
    /// <param name="ceilMode">Whether H_out and W_out round up, so a last window that runs past the padding is kept (nn.MaxPool2d's <c>ceil_mode</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A kernel size, stride or dilation is not positive, or a padding is negative or more than half the kernel size along its axis.</exception>
    public MaxPool2d(Size2d kernelSize, Size2d? stride = null, Size2d padding = default, Size2d? dilation = null, bool ceilMode = false)
        : base(max: true)
    {
        PoolWindows.AtLeast(kernelSize, 1, nameof(kernelSize), nameof(MaxPool2d));
        PoolWindows.AtLeast(stride ?? kernelSize, 1, nameof(stride), nameof(MaxPool2d));
        PoolWindows.AtLeast(dilation ?? 1, 1, nameof(dilation), nameof(MaxPool2d));
        PoolWindows.CheckPadding(nameof(MaxPool2d), padding, kernelSize);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        Dilation = dilation ?? 1;
        CeilMode = ceilMode;
        description = $"MaxPool2d(kernel {KernelSize}, stride {Stride}, padding {Padding}, dilation {Dilation}{(CeilMode ? ", ceilMode true" : "")})";
    }

    /// <summary>(k_h, k_w), the taps of the window along each axis.</summary>
    public Size2d KernelSize { get; }

    /// <summary>The step between windows along each axis.</summary>
    public Size2d Stride { get; }

    /// <summary>The −∞ added on each side of the input along each axis.</summary>
    public Size2d Padding { get; }

    /// <summary>The step between the window's taps along each axis.</summary>
    public Size2d Dilation { get; }

    /// <summary>Whether H_out and W_out round up (PyTorch's <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; }

    /// <summary>(H_out, W_out) for an input of <paramref name="height"/> × <paramref name="width"/>; 0 along an axis where the window does not fit.</summary>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <returns>(H_out, W_out).</returns>
    /// <exception cref="ArgumentOutOfRangeException">H_out or W_out is more than int.MaxValue.</exception>
    public Size2d OutputSize(int height, int width)
        => new(
            PoolWindows.OutputLength(height, KernelSize.Height, Stride.Height, Padding.Height, Dilation.Height, CeilMode),
            PoolWindows.OutputLength(width, KernelSize.Width, Stride.Width, Padding.Width, Dilation.Width, CeilMode));

    /// <inheritdoc/>
    private protected override Pool2dGeometry Windows(Tensor input) => PoolWindows.Sliding(description, input, KernelSize, Stride, Padding, Dilation, countIncludePad: true, CeilMode);
}
