using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// An adaptive 2-d pooling, max or average (<see cref="AdaptiveMaxPool2d"/>, <see cref="AdaptiveAvgPool2d"/>): y [N, C,
/// H_out, W_out] pooled over the window of output (oh, ow), along each axis as <see cref="AdaptivePool1dModule"/>'s:
/// the rows [⌊oh·H/H_out⌋, ⌈(oh + 1)·H/H_out⌉) crossed with the columns [⌊ow·W/W_out⌋, ⌈(ow + 1)·W/W_out⌉) of x
/// [N, C, H, W], so any H × W gives H_out × W_out values per channel. Output size 1 is global pooling, one value per
/// channel whatever the size. It has no parameters.
/// </summary>
public abstract class AdaptivePool2dModule : Pool2dModule
{
    private readonly string description;

    private protected AdaptivePool2dModule(bool max, string layer, Size2d outputSize)
        : base(max)
    {
        PoolWindows.AtLeast(outputSize, 1, nameof(outputSize), layer);
        OutputSize = outputSize;
        description = $"{layer}({outputSize})";
    }

    /// <summary>(H_out, W_out), the values per channel of the output along each axis.</summary>
    public Size2d OutputSize { get; }

    /// <inheritdoc/>
    private protected sealed override Pool2dGeometry Windows(Tensor input) => PoolWindows.Adaptive(description, input, OutputSize);
}
