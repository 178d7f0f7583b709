using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.Conv2d: y [N, C_out, H_out, W_out] = Σ_{c, i, j} weight[o, c, i, j]·x[n, g·C_in/G + c, s·strideH − top + i·dilationH,
/// t·strideW − left + j·dilationW] + bias[o] for x [N, C_in, H, W] padded with zeros (top rows above it, bottom below,
/// left columns before it, right after), where output channel o is in group g = ⌊o/(C_out/G)⌋ of the
/// G = <see cref="Groups"/> groups and c runs over that group's C_in/G input channels, with H_out and W_out by PyTorch's
/// formula on each axis, H_out = ⌊(H + top + bottom − dilationH·(kH − 1) − 1)/strideH⌋ + 1. The kernel size, stride,
/// padding and dilation are each one int for both axes or a (height, width) pair (<see cref="Size2d"/>,
/// <see cref="Conv2dPadding"/>); <see cref="Conv2dPadding.Same"/> pads so that H_out = H and W_out = W. The padding is
/// zeros: nn.Conv2d's other <c>padding_mode</c>s (reflect, replicate, circular) are not offered. <c>weight</c>
/// [C_out, C_in/G, kH, kW] and <c>bias</c> [C_out] (none with <c>bias: false</c>) have nn.Conv2d's state_dict names,
/// order and default initialisation, U(−1/√(C_in/G·kH·kW), 1/√(C_in/G·kH·kW)).
/// <para>
/// The input is unfolded (im2col) into rows [N·H_out·W_out, C_in·kH·kW], one per output position, so the convolution is
/// one GEMM with the weight read as [C_out, C_in·kH·kW], group by group as <see cref="Conv1d"/> runs it (the input put
/// group-major first where G and N are both above 1); backward adds dyᵀ·columns to the weight's gradient and dy's column
/// sums to the bias's, and folds dy·W (col2im) into dx, each element of dx the sum of the columns' elements read from it.
/// </para>
/// </summary>
public sealed class Conv2d : Module
{
    private readonly ShapeView groupedShaped = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView foldedGradient = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly bool hasBias;
    private readonly Conv2dWindow window;
    private readonly UnfoldedConvolution unfolded;
    private Parameter? weight;
    private Parameter? bias;
    private Tensor? savedInput;

    /// <summary>Creates the layer; its parameters are made when the root module is built.</summary>
    /// <param name="inChannels">C_in, the input's channels (dimension 1).</param>
    /// <param name="outChannels">C_out, the output's channels.</param>
    /// <param name="kernelSize">(kH, kW), the kernel's rows and columns of taps; an int for a square kernel.</param>
    /// <param name="stride">The step between output positions on each axis; 1 when left out.</param>
    /// <param name="padding">
    /// nn.Conv2d's <c>padding</c>: the zeros added on each side of each axis (an int, or a (height, width) pair),
    /// <see cref="Conv2dPadding.Same"/> (stride 1 only) or <see cref="Conv2dPadding.Valid"/> (none).
    /// </param>
    /// <param name="dilation">The step between the kernel's taps on each axis; 1 when left out.</param>
    /// <param name="bias">Whether the layer has a <c>bias</c> (nn.Conv2d's <c>bias</c>).</param>
    /// <param name="groups">
    /// G, nn.Conv2d's <c>groups</c>: the channels are split into G groups, output group g reading input group g
    /// alone; C_in and C_out must both be multiples of G.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A channel count, a kernel size, a stride, a dilation or the groups is not positive, a padding is negative, or the
    /// weight's C_out·C_in/G·kH·kW values are more than one tensor holds.
    /// </exception>
    /// <exception cref="ArgumentException">C_in or C_out is not a multiple of the groups, or the padding is 'same' and the stride is not 1.</exception>
    public Conv2d(int inChannels, int outChannels, Size2d kernelSize, Size2d? stride = null, Conv2dPadding padding = default, Size2d? dilation = null, bool bias = true, int groups = 1)
    {
        var steps = stride ?? 1;
        var spacing = dilation ?? 1;
        Conv1dGeometry.AtLeast(inChannels, 1, nameof(inChannels));
        Conv1dGeometry.AtLeast(outChannels, 1, nameof(outChannels));
        Conv1dGeometry.CheckSizes(Math.Min(kernelSize.Height, kernelSize.Width), Math.Min(steps.Height, steps.Width), Math.Min(padding.Amount.Height, padding.Amount.Width), Math.Min(spacing.Height, spacing.Width));
        Conv1dGeometry.AtLeast(groups, 1, nameof(groups));
        UnfoldedConvolution.CheckSame(nameof(Conv2d), padding.IsSame, steps != 1, steps.ToString());
        UnfoldedConvolution.CheckGroups(nameof(Conv2d), inChannels, outChannels, groups);
        long weightSize = (long)outChannels * (inChannels / groups) * kernelSize.Height * kernelSize.Width;
        if (weightSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"A Conv2d's weight [C_out, C_in/groups, kH, kW] = [{outChannels}, {inChannels / groups}, {kernelSize.Height}, {kernelSize.Width}] has {weightSize} values, more than one tensor holds ({int.MaxValue}).");
        }

        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = steps;
        Padding = padding;
        Dilation = spacing;
        Groups = groups;
        hasBias = bias;
        var (top, bottom, left, right) = padding.Resolve(kernelSize, spacing);
        window = new Conv2dWindow(kernelSize.Height, kernelSize.Width, steps.Height, steps.Width, top, bottom, left, right, spacing.Height, spacing.Width);
        unfolded = new UnfoldedConvolution(groups);
    }

    /// <summary>C_in, the input's channels.</summary>
    public int InChannels { get; }

    /// <summary>C_out, the output's channels.</summary>
    public int OutChannels { get; }

    /// <summary>(kH, kW), the kernel's rows and columns of taps.</summary>
    public Size2d KernelSize { get; }

    /// <summary>The step between output positions on each axis.</summary>
    public Size2d Stride { get; }

    /// <summary>The padding as it was given: an amount on each side of each axis, <see cref="Conv2dPadding.Same"/> or <see cref="Conv2dPadding.Valid"/>.</summary>
    public Conv2dPadding Padding { get; }

    /// <summary>The zero rows added above the input: the padding's height, or ⌊dilationH·(kH − 1)/2⌋ for 'same'.</summary>
    public int PaddingTop => window.PaddingTop;

    /// <summary>The zero rows added below the input: the padding's height, or dilationH·(kH − 1) − <see cref="PaddingTop"/> for 'same'.</summary>
    public int PaddingBottom => window.PaddingBottom;

    /// <summary>The zero columns added before the input: the padding's width, or ⌊dilationW·(kW − 1)/2⌋ for 'same'.</summary>
    public int PaddingLeft => window.PaddingLeft;

    /// <summary>The zero columns added after the input: the padding's width, or dilationW·(kW − 1) − <see cref="PaddingLeft"/> for 'same'.</summary>
    public int PaddingRight => window.PaddingRight;

    /// <summary>The step between the kernel's taps on each axis.</summary>
    public Size2d Dilation { get; }

    /// <summary>G, the groups the channels are split into (nn.Conv2d's <c>groups</c>); 1 for the ordinary convolution.</summary>
    public int Groups { get; }

    /// <summary>The weight [C_out, C_in/G, kH, kW].</summary>
    public Parameter Weight => weight ?? throw NotBuiltError();

    /// <summary>The bias [C_out]; null for a layer made with <c>bias: false</c>.</summary>
    public Parameter? Bias => hasBias ? bias ?? throw NotBuiltError() : null;

    /// <summary>(H_out, W_out) for an input of <paramref name="height"/> × <paramref name="width"/>; 0 on an axis where the kernel does not fit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">H_out or W_out is more than int.MaxValue (a padding near int.MaxValue / 2).</exception>
    public Size2d OutputSize(int height, int width)
    {
        long outHeight = window.OutputHeightOf(height), outWidth = window.OutputWidthOf(width);
        return outHeight <= int.MaxValue && outWidth <= int.MaxValue
            ? new Size2d((int)outHeight, (int)outWidth)
            : throw new ArgumentOutOfRangeException(outHeight > int.MaxValue ? nameof(height) : nameof(width), $"{Describe()} on an input of {height}×{width} gives H_out × W_out = {outHeight}×{outWidth}, more than int.MaxValue.");
    }

    /// <summary>y [N, C_out, H_out, W_out] from x [N, C_in, H, W].</summary>
    /// <exception cref="ArgumentException">
    /// The input is not [N, C_in, H, W], H or W is 0 or too small for the dilated kernel after padding (H_out or W_out
    /// &lt; 1), or the sizes are more than the GEMM and its tensors take (N·H_out·W_out or C_in·kH·kW over
    /// <c>Ops.GemmMaxDimension</c>, or the unfolded input's N·H_out·W_out·C_in·kH·kW or the output's N·C_out·H_out·W_out
    /// values over int.MaxValue); nothing is allocated then.
    /// </exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        if (input.Rank != 4 || input.Shape[1] != InChannels)
        {
            throw new ArgumentException($"{Describe()} takes input [N, {InChannels}, H, W] but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        int n = input.Shape[0], height = input.Shape[2], width = input.Shape[3];
        if (height == 0 || width == 0)
        {
            // As torch.nn.Conv2d: only the batch or the channels may be empty, not the positions.
            throw new ArgumentException($"{Describe()} takes input [N, {InChannels}, H, W] with H and W at least 1 but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        long outHeight = window.OutputHeightOf(height), outWidth = window.OutputWidthOf(width);
        if (outHeight < 1 || outWidth < 1)
        {
            long needHeight = ((long)window.DilationHeight * (window.KernelHeight - 1)) + 1 - ((long)PaddingTop + PaddingBottom);
            long needWidth = ((long)window.DilationWidth * (window.KernelWidth - 1)) + 1 - ((long)PaddingLeft + PaddingRight);
            throw new ArgumentException($"{Describe()} needs an input of at least {Math.Max(1, needHeight)}×{Math.Max(1, needWidth)} (H×W, the dilated kernel less the padding) but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        CheckFits(input, outHeight, outWidth);
        int positions = (int)outHeight * (int)outWidth, groupIn = InChannels / Groups;
        var grouped = unfolded.GroupMajorInput(input, n, groupIn * height * width);
        var x = unfolded.Columns(input.Device, n * positions, groupIn * window.Taps);
        Ops.Unfold2d(groupedShaped.Reshaped(grouped, Groups * n, groupIn, height, width), x, window);
        var y = unfolded.Multiply(x, Weight.Value, Bias?.Value, n, positions);
        savedInput = input;
        return LastOutput = outputShaped.Reshaped(y, n, OutChannels, (int)outHeight, (int)outWidth);
    }

    /// <summary>Accumulates dweight += dyᵀ·columns and dbias += Σ dy group by group, and returns dx [N, C_in, H, W].</summary>
    public override Tensor Backward(Tensor outputGradient) => Backward(outputGradient, computeInputGradient: true)!;

    /// <summary>As <see cref="Backward(Tensor)"/>; with <paramref name="computeInputGradient"/> false, dx is not computed (neither the dy·W GEMM nor the fold) and null is returned.</summary>
    public override Tensor? Backward(Tensor outputGradient, bool computeInputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var y = LastOutput!;
        int n = y.Shape[0], height = x.Shape[2], width = x.Shape[3], groupIn = InChannels / Groups;
        if (unfolded.ColumnsGradient(outputGradient, Weight, Bias, n, y.Shape[2] * y.Shape[3], computeInputGradient) is not { } dColumns)
        {
            return null;
        }

        var folded = unfolded.InputGradient(x.Device, n, groupIn * height * width);
        Ops.Fold2d(dColumns, foldedGradient.Reshaped(folded, Groups * n, groupIn, height, width), window);
        return inputGradientShaped.Reshaped(unfolded.InputGradientToBatchFirst(folded, n), n, InChannels, height, width);
    }

    /// <summary>Registers <c>weight</c> [C_out, C_in/G, kH, kW] and <c>bias</c> [C_out] (when it has one) with nn.Conv2d's default initialisation.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int fanIn = InChannels / Groups * window.Taps;
        weight = parameters.Add(JoinName(prefix, "weight"), [OutChannels, InChannels / Groups, KernelSize.Height, KernelSize.Width], Initializers.LinearDefault(fanIn));
        if (hasBias)
        {
            bias = parameters.Add(JoinName(prefix, "bias"), [OutChannels], Initializers.LinearDefault(fanIn));
        }
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => unfolded.Dispose();

    // Before anything is allocated, in long: H_out·W_out first, so that N·H_out·W_out and the products after it cannot
    // overflow (in Int128 where even that may).
    private void CheckFits(Tensor input, long outHeight, long outWidth)
    {
        const long Gemm = Ops.GemmMaxDimension;
        Int128 positions = (Int128)outHeight * outWidth, rows = input.Shape[0] * positions, width = (long)InChannels * window.Taps;
        string? tooLarge = positions > int.MaxValue ? $"H_out·W_out = {positions}, more than an int holds ({int.MaxValue})"
            : rows > Gemm ? $"N·H_out·W_out = {rows} rows, more than a GEMM takes ({Gemm})"
            : width > Gemm ? $"C_in·kH·kW = {width} columns, more than a GEMM takes ({Gemm})"
            : rows * width > int.MaxValue ? $"N·H_out·W_out·C_in·kH·kW = {rows * width} values for the unfolded input, more than one tensor holds ({int.MaxValue})"
            : rows * OutChannels > int.MaxValue ? $"N·C_out·H_out·W_out = {rows * OutChannels} values for the output, more than one tensor holds ({int.MaxValue})"
            : null;
        if (tooLarge is not null)
        {
            throw new ArgumentException($"{Describe()} on a tensor of shape {input.ShapeText} needs {tooLarge}.", nameof(input));
        }
    }

    private string Describe() => $"Conv2d({InChannels}, {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}, dilation {Dilation}{(Groups > 1 ? $", groups {Groups}" : string.Empty)})";
}
