using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.AdaptiveAvgPool1d: y [N, C, outputSize] = the mean of x [N, C, L] over the window of output t, the
/// positions [⌊t·L/outputSize⌋, ⌈(t + 1)·L/outputSize⌉), so any L gives outputSize values per channel (windows overlap
/// where outputSize does not divide L). outputSize 1 is global mean pooling, one value per channel whatever the
/// length. Backward spreads each output's gradient evenly over its window. It has no parameters.
/// </summary>
public sealed class AdaptiveAvgPool1d : Pool1dModule
{
    private readonly string description;

    /// <summary>Creates the layer.</summary>
    /// <param name="outputSize">L_out, the values per channel of the output.</param>
    /// <exception cref="ArgumentOutOfRangeException">The output size is not positive.</exception>
    public AdaptiveAvgPool1d(int outputSize)
        : base(max: false)
    {
        Conv1dGeometry.AtLeast(outputSize, 1, nameof(outputSize), nameof(AdaptiveAvgPool1d));
        OutputSize = outputSize;
        description = $"AdaptiveAvgPool1d({outputSize})";
    }

    /// <summary>L_out, the values per channel of the output.</summary>
    public int OutputSize { get; }

    /// <inheritdoc/>
    private protected override Pool1dGeometry Windows(Tensor input) => Pool1dWindows.Adaptive(description, input, OutputSize);
}
