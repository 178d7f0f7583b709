namespace Tensorlet.Nn;

/// <summary>
/// nn.AdaptiveAvgPool2d: y [N, C, H_out, W_out] = the mean of x [N, C, H, W] over the window of output (oh, ow), the
/// rows [⌊oh·H/H_out⌋, ⌈(oh + 1)·H/H_out⌉) crossed with the columns [⌊ow·W/W_out⌋, ⌈(ow + 1)·W/W_out⌉), so any H × W
/// gives H_out × W_out values per channel. Output size 1 is global mean pooling (a CNN's usual head). Backward spreads
/// each output's gradient evenly over its window. It has no parameters.
/// </summary>
/// <param name="outputSize">(H_out, W_out), or one int for both.</param>
/// <exception cref="ArgumentOutOfRangeException">An output size is not positive.</exception>
public sealed class AdaptiveAvgPool2d(Size2d outputSize) : AdaptivePool2dModule(max: false, nameof(AdaptiveAvgPool2d), outputSize);
