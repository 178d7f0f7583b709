using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.AvgPool2d: y [N, C, H_out, W_out] = the mean over the window x[n, c, oh·stride_h − padding_h + i, ow·stride_w −
/// padding_w + j], i &lt; k_h, j &lt; k_w, of x [N, C, H, W], each of H_out and W_out as <see cref="AvgPool1d"/>'s
/// L_out along its axis (with <c>ceilMode</c> rounded up, less one where the last window would start in the right
/// padding). Padded positions are zeros, and the mean divides, as PyTorch 1.13 does, by the product over the two axes of
/// the window's positions inside x and its padding (<c>countIncludePad: true</c>, PyTorch's default: k_h·k_w, but fewer
/// for a last window past the padding, whose positions beyond it are not counted) or of its positions inside x alone.
/// Backward spreads each output's gradient evenly over its window. Each size is an int for both axes or a (height,
/// width) pair (<see cref="Size2d"/>). It has no parameters.
/// </summary>
public sealed class AvgPool2d : Pool2dModule
{
    private readonly string description;

    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">(k_h, k_w), the size of the window along each axis.</param>
    /// <param name="stride">The step between windows; null (the default) for the kernel size, as nn.AvgPool2d's <c>stride=None</c>.</param>
    /// <param name="padding">The zeros added on each side of the input along each axis, at most half the kernel size there, as PyTorch requires.</param>
    /// <param name="ceilMode">Whether H_out and W_out round up, so a last window that runs past the padding is kept (nn.AvgPool2d's <c>ceil_mode</c>).</param>
    /// <param name="countIncludePad">Whether the mean counts the padded positions (nn.AvgPool2d's <c>count_include_pad</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A kernel size or stride is not positive, or a padding is negative or more than half the kernel size along its axis.</exception>
    public AvgPool2d(Size2d kernelSize, Size2d? stride = null, Size2d padding = default, bool ceilMode = false, bool countIncludePad = true)
        : base(max: false)
    {
        PoolWindows.AtLeast(kernelSize, 1, nameof(kernelSize), nameof(AvgPool2d));
        PoolWindows.AtLeast(stride ?? kernelSize, 1, nameof(stride), nameof(AvgPool2d));
        PoolWindows.CheckPadding(nameof(AvgPool2d), padding, kernelSize);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
        description = $"AvgPool2d(kernel {KernelSize}, stride {Stride}, padding {Padding}, countIncludePad {(CountIncludePad ? "true" : "false")}{(CeilMode ? ", ceilMode true" : "")})";
    }

    /// <summary>(k_h, k_w), the size of the window along each axis.</summary>
    public Size2d KernelSize { get; }

    /// <summary>The step between windows along each axis.</summary>
    public Size2d Stride { get; }

    /// <summary>The zeros added on each side of the input along each axis.</summary>
    public Size2d Padding { get; }

    /// <summary>Whether H_out and W_out round up (PyTorch's <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; }

    /// <summary>Whether the mean counts the padded positions.</summary>
    public bool CountIncludePad { get; }

    /// <summary>(H_out, W_out) for an input of <paramref name="height"/> × <paramref name="width"/>; 0 along an axis where the window does not fit.</summary>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <returns>(H_out, W_out).</returns>
    /// <exception cref="ArgumentOutOfRangeException">H_out or W_out is more than int.MaxValue.</exception>
    public Size2d OutputSize(int height, int width)
        => new(
            PoolWindows.OutputLength(height, KernelSize.Height, Stride.Height, Padding.Height, 1, CeilMode),
            PoolWindows.OutputLength(width, KernelSize.Width, Stride.Width, Padding.Width, 1, CeilMode));

    /// <inheritdoc/>
    private protected override Pool2dGeometry Windows(Tensor input) => PoolWindows.Sliding(description, input, KernelSize, Stride, Padding, 1, CountIncludePad, CeilMode);
}
