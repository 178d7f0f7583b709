namespace Tensorlet.Nn;

/// <summary>
/// nn.AdaptiveAvgPool1d: y [N, C, outputSize] = the mean of x [N, C, L] over the window of output t, the
/// positions [⌊t·L/outputSize⌋, ⌈(t + 1)·L/outputSize⌉), so any L gives outputSize values per channel (windows overlap
/// where outputSize does not divide L). outputSize 1 is global mean pooling, one value per channel whatever the
/// length. Backward spreads each output's gradient evenly over its window. It has no parameters.
/// </summary>
/// <param name="outputSize">L_out, the values per channel of the output.</param>
/// <exception cref="ArgumentOutOfRangeException">The output size is not positive.</exception>
public sealed class AdaptiveAvgPool1d(int outputSize) : AdaptivePool1dModule(max: false, nameof(AdaptiveAvgPool1d), outputSize);
