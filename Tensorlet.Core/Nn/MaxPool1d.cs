using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.MaxPool1d: y [N, C, L_out] = the maximum over the window x[n, c, t·stride − padding + j·dilation], j &lt; k, of
/// x [N, C, L], with L_out = ⌊(L + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1, or with <c>ceilMode</c> the quotient
/// rounded up, less one where the last window would start in the right padding, as PyTorch's ceil_mode (the last window
/// may then run past the padding). Padded positions, and those past them, are −∞, so they are never the maximum. A
/// window holding a NaN gives NaN, as in PyTorch. Backward routes each
/// output's gradient to the position of its maximum (the first one in the window, as PyTorch on the CPU; the last NaN
/// where there is one), kept as indices in a buffer of the module's own. It has no parameters.
/// </summary>
public sealed class MaxPool1d : Pool1dModule
{
    private readonly string description;

    /// <summary>Creates the layer.</summary>
    /// <param name="kernelSize">k, the taps of the window.</param>
    /// <param name="stride">The step between windows; null (the default) for k, as nn.MaxPool1d's <c>stride=None</c>.</param>
    /// <param name="padding">The −∞ added on each side of the input, at most k/2 as PyTorch requires.</param>
    /// <param name="dilation">The step between the window's taps.</param>
    /// <param name="ceilMode">Whether L_out rounds up, so a last window that runs past the padding is kept (nn.MaxPool1d's <c>ceil_mode</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">k, the stride or the dilation is not positive, or the padding is negative or more than k/2.</exception>
    public MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        : base(max: true)
    {
        Conv1dGeometry.AtLeast(kernelSize, 1, nameof(kernelSize), nameof(MaxPool1d));
        Conv1dGeometry.AtLeast(stride ?? kernelSize, 1, nameof(stride), nameof(MaxPool1d));
        Conv1dGeometry.AtLeast(dilation, 1, nameof(dilation), nameof(MaxPool1d));
        PoolWindows.CheckPadding(nameof(MaxPool1d), padding, kernelSize);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        Dilation = dilation;
        CeilMode = ceilMode;
        description = $"MaxPool1d(kernel {KernelSize}, stride {Stride}, padding {Padding}, dilation {Dilation}{(CeilMode ? ", ceilMode true" : "")})";
    }

    /// <summary>k, the taps of the window.</summary>
    public int KernelSize { get; }

    /// <summary>The step between windows.</summary>
    public int Stride { get; }

    /// <summary>The −∞ added on each side of the input.</summary>
    public int Padding { get; }

    /// <summary>The step between the window's taps.</summary>
    public int Dilation { get; }

    /// <summary>Whether L_out rounds up (PyTorch's <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; }

    /// <summary>L_out for an input of length <paramref name="length"/>; 0 when the window does not fit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">L_out is more than int.MaxValue.</exception>
    public int OutputLength(int length) => PoolWindows.OutputLength(length, KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <inheritdoc/>
    private protected override Pool2dGeometry Windows(Tensor input) => PoolWindows.Sliding(description, input, KernelSize, Stride, Padding, Dilation, countIncludePad: true, CeilMode);
}
