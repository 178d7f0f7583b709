namespace Tensorlet.Nn;

/// <summary>
/// nn.AdaptiveMaxPool1d: y [N, C, outputSize] = the maximum of x [N, C, L] over the window of output t, the
/// positions [⌊t·L/outputSize⌋, ⌈(t + 1)·L/outputSize⌉), so any L gives outputSize values per channel (windows overlap
/// where outputSize does not divide L). outputSize 1 is global maximum pooling, one value per channel whatever the
/// length. A window holding a NaN gives NaN, as in PyTorch; backward routes each output's gradient to the position of its
/// maximum (the first one in the window, the last NaN where there is one), kept as indices in a buffer of the module's own. It has no parameters.
/// </summary>
/// <param name="outputSize">L_out, the values per channel of the output.</param>
/// <exception cref="ArgumentOutOfRangeException">The output size is not positive.</exception>
public sealed class AdaptiveMaxPool1d(int outputSize) : AdaptivePool1dModule(max: true, nameof(AdaptiveMaxPool1d), outputSize);
