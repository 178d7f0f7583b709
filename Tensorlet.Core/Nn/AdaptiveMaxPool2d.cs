namespace Tensorlet.Nn;

/// <summary>
/// nn.AdaptiveMaxPool2d: y [N, C, H_out, W_out] = the maximum of x [N, C, H, W] over the window of output (oh, ow), the
/// rows [⌊oh·H/H_out⌋, ⌈(oh + 1)·H/H_out⌉) crossed with the columns [⌊ow·W/W_out⌋, ⌈(ow + 1)·W/W_out⌉), so any H × W
/// gives H_out × W_out values per channel. Output size 1 is global maximum pooling. A window holding a NaN gives NaN, as
/// in PyTorch; backward routes each output's gradient to the position of its maximum (the first one in the window, row
/// by row; the last NaN where there is one), kept as indices in a buffer of the module's own. It has no parameters.
/// </summary>
/// <param name="outputSize">(H_out, W_out), or one int for both.</param>
/// <exception cref="ArgumentOutOfRangeException">An output size is not positive.</exception>
public sealed class AdaptiveMaxPool2d(Size2d outputSize) : AdaptivePool2dModule(max: true, nameof(AdaptiveMaxPool2d), outputSize);
