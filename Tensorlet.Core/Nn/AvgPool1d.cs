using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.AvgPool1d: y [N, C, L_out] = the mean over the window x[n, c, t·stride − padding + j], j &lt; k, of x [N, C, L],
/// with L_out = ⌊(L + 2·padding − k)/stride⌋ + 1, or with <c>ceilMode</c> the quotient rounded up, less one where the
/// last window would start in the right padding, as PyTorch's ceil_mode (the last window may then run past the padding).
/// Padded positions are zeros, and the mean divides by the window's positions inside x and its padding
/// (<c>countIncludePad: true</c>, PyTorch's default: k, but fewer for a last window past the padding, whose positions
/// beyond it are not counted, as PyTorch counts them) or by its positions inside x alone. Backward spreads each
/// output's gradient evenly over its window. It has no parameters.
/// </summary>
public sealed class AvgPool1d : Pool1dModule
{
    private readonly string description;

    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">k, the width of the window.</param>
    /// <param name="stride">The step between windows; null (the default) for k, as nn.AvgPool1d's <c>stride=None</c>.</param>
    /// <param name="padding">The zeros added on each side of the input, at most k/2 as PyTorch requires.</param>
    /// <param name="ceilMode">Whether L_out rounds up, so a last window that runs past the padding is kept (nn.AvgPool1d's <c>ceil_mode</c>).</param>
    /// <param name="countIncludePad">Whether the mean counts the padded positions (nn.AvgPool1d's <c>count_include_pad</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">k or the stride is not positive, or the padding is negative or more than k/2.</exception>
    public AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : base(max: false)
    {
        Conv1dGeometry.AtLeast(kernelSize, 1, nameof(kernelSize), nameof(AvgPool1d));
        Conv1dGeometry.AtLeast(stride ?? kernelSize, 1, nameof(stride), nameof(AvgPool1d));
        PoolWindows.CheckPadding(nameof(AvgPool1d), padding, kernelSize);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        CountIncludePad = countIncludePad;
        CeilMode = ceilMode;
        description = $"AvgPool1d(kernel {KernelSize}, stride {Stride}, padding {Padding}, countIncludePad {(CountIncludePad ? "true" : "false")}{(CeilMode ? ", ceilMode true" : "")})";
    }

    /// <summary>k, the width of the window.</summary>
    public int KernelSize { get; }

    /// <summary>The step between windows.</summary>
    public int Stride { get; }

    /// <summary>The zeros added on each side of the input.</summary>
    public int Padding { get; }

    /// <summary>Whether the mean counts the padded positions.</summary>
    public bool CountIncludePad { get; }

    /// <summary>Whether L_out rounds up (PyTorch's <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; }

    /// <summary>L_out for an input of length <paramref name="length"/>; 0 when the window does not fit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">L_out is more than int.MaxValue.</exception>
    public int OutputLength(int length) => PoolWindows.OutputLength(length, KernelSize, Stride, Padding, 1, CeilMode);

    /// <inheritdoc/>
    private protected override Pool2dGeometry Windows(Tensor input) => PoolWindows.Sliding(description, input, KernelSize, Stride, Padding, 1, CountIncludePad, CeilMode);
}
