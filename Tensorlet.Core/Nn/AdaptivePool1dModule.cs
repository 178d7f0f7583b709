using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// An adaptive 1-d pooling, max or average (<see cref="AdaptiveMaxPool1d"/>, <see cref="AdaptiveAvgPool1d"/>): y [N, C,
/// outputSize] pooled over the window of output t, the positions [⌊t·L/outputSize⌋, ⌈(t + 1)·L/outputSize⌉) of x [N, C, L],
/// so any L gives outputSize values per channel (windows overlap where outputSize does not divide L, and outputSize
/// may exceed L). outputSize 1 is global pooling, one value per channel whatever the length. It has no parameters.
/// </summary>
public abstract class AdaptivePool1dModule : Pool1dModule
{
    private readonly string description;

    private protected AdaptivePool1dModule(bool max, string layer, int outputSize)
        : base(max)
    {
        Conv1dGeometry.AtLeast(outputSize, 1, nameof(outputSize), layer);
        OutputSize = outputSize;
        description = $"{layer}({outputSize})";
    }

    /// <summary>L_out, the values per channel of the output.</summary>
    public int OutputSize { get; }

    /// <inheritdoc/>
    private protected sealed override Pool2dGeometry Windows(Tensor input) => PoolWindows.Adaptive(description, input, OutputSize);
}
