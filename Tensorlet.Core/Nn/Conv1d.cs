using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.Conv1d: y [N, C_out, L_out] = Σ_{c, j} weight[o, c, j]·x[n, g·C_in/G + c, t·stride − left + j·dilation] + bias[o]
/// for x [N, C_in, L] padded with zeros, left positions before it and right after it, where output channel o is in group
/// g = ⌊o/(C_out/G)⌋ of the G = <see cref="Groups"/> groups and c runs over that group's C_in/G input channels, with
/// L_out = ⌊(L + left + right − dilation·(k − 1) − 1)/stride⌋ + 1. An int padding p pads p on each side;
/// <see cref="Conv1dPadding.Same"/> pads so that L_out = L (<see cref="PaddingLeft"/>, <see cref="PaddingRight"/>).
/// G = 1 is the ordinary convolution, every output reading every input channel; G = C_in = C_out is the depthwise one,
/// each channel filtered on its own. <c>weight</c> [C_out, C_in/G, k] and <c>bias</c> [C_out] (none with
/// <c>bias: false</c>) have nn.Conv1d's state_dict names, order and default initialisation, U(−1/√(C_in/G·k),
/// 1/√(C_in/G·k)). A <see cref="PaddingMode"/> other than zeros (nn.Conv1d's <c>padding_mode</c>) pads with reflected,
/// replicated or wrapped-around input positions instead.
/// <para>
/// The input is unfolded (im2col) into rows [N·L_out, C_in·k], one per output position, so the convolution is one GEMM
/// with the weight read as [C_out, C_in·k]; the product's rows [N·L_out, C_out] are then laid out as [N, C_out, L_out].
/// Backward lays dy out as rows the same way, adds dyᵀ·columns to the weight's gradient and dy's column sums to the
/// bias's, and folds dy·W (col2im) into dx. With G groups the input is first put group-major, [G·N, C_in/G, L] (a
/// gather of whole rows, left out when N is 1), so that its unfold is G blocks of rows [N·L_out, C_in/G·k], one per
/// group, and each group is one GEMM of its block by its C_out/G rows of the weight into its own block of product rows;
/// the output and the gradients are taken back to batch-major order the same way. A depthwise layer (G = C_in, C_out
/// any multiple of it) is not unfolded: a direct kernel slides each output channel's k taps along its input channel,
/// and its backward gathers dx and sums dW and db per channel and tap, without atomics; its floats differ from the
/// GEMMs' only in the order of the sums. A padding mode other than zeros first
/// pads the input into a buffer of the layer's (one gather by an index map held on the device), which is then convolved
/// without padding; backward scatter-adds that buffer's gradient back onto dx, as PyTorch's F.pad does.
/// </para>
/// </summary>
public sealed class Conv1d : Module
{
    private readonly Workspace output = new();
    private readonly Workspace inputGradient = new();
    private readonly Workspace depthwiseOutputAlternate = new();
    private readonly Workspace depthwiseGradientAlternate = new();
    private readonly ShapeView groupedShaped = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientShaped = new();
    private readonly ShapeView foldedGradient = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly ShapeView alternateOutputShaped = new();
    private readonly ShapeView alternateGradientShaped = new();
    private readonly bool hasBias;
    private readonly ModePadding? modePadding;
    private readonly UnfoldedConvolution unfolded;
    private Parameter? weight;
    private Parameter? bias;
    private Tensor? savedInput;
    private Tensor? savedSource;

    /// <summary>Creates the layer; its parameters are made when the root module is built.</summary>
    /// <param name="inChannels">C_in, the input's channels (dimension 1).</param>
    /// <param name="outChannels">C_out, the output's channels.</param>
    /// <param name="kernelSize">k, the taps of the kernel.</param>
    /// <param name="stride">The step between output positions.</param>
    /// <param name="padding">
    /// nn.Conv1d's <c>padding</c>: the zeros added on each side of the input (an int), <see cref="Conv1dPadding.Same"/>
    /// (stride 1 only) or <see cref="Conv1dPadding.Valid"/> (none).
    /// </param>
    /// <param name="dilation">The step between the kernel's taps.</param>
    /// <param name="bias">Whether the layer has a <c>bias</c> (nn.Conv1d's <c>bias</c>).</param>
    /// <param name="groups">
    /// G, nn.Conv1d's <c>groups</c>: the channels are split into G groups, output group g reading input group g
    /// alone; C_in and C_out must both be multiples of G. 1 is the ordinary convolution, C_in = C_out = G the depthwise one.
    /// </param>
    /// <param name="paddingMode">
    /// nn.Conv1d's <c>padding_mode</c>: what the padding holds, zeros (the default), or the input reflected, replicated
    /// or wrapped around (<see cref="Tensorlet.Nn.PaddingMode"/>).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A channel count, k, the stride, the dilation or the groups is not positive, the padding is negative, the padding
    /// mode is none of <see cref="Tensorlet.Nn.PaddingMode"/>'s, or the weight's C_out·C_in/G·k values are more than one
    /// tensor holds.
    /// </exception>
    /// <exception cref="ArgumentException">C_in or C_out is not a multiple of the groups, or the padding is 'same' and the stride is not 1.</exception>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, Conv1dPadding padding = default, int dilation = 1, bool bias = true, int groups = 1, PaddingMode paddingMode = PaddingMode.Zeros)
    {
        Conv1dGeometry.AtLeast(inChannels, 1, nameof(inChannels));
        Conv1dGeometry.AtLeast(outChannels, 1, nameof(outChannels));
        Conv1dGeometry.CheckSizes(kernelSize, stride, padding.Amount, dilation);
        Conv1dGeometry.AtLeast(groups, 1, nameof(groups));
        UnfoldedConvolution.CheckSame(nameof(Conv1d), padding.IsSame, stride != 1, stride.ToString(System.Globalization.CultureInfo.InvariantCulture));
        UnfoldedConvolution.CheckGroups(nameof(Conv1d), inChannels, outChannels, groups);
        if (!Enum.IsDefined(paddingMode))
        {
            throw new ArgumentOutOfRangeException(nameof(paddingMode), $"A Conv1d's paddingMode must be Zeros, Reflect, Replicate or Circular; got {(int)paddingMode}.");
        }

        long weightSize = (long)outChannels * (inChannels / groups) * kernelSize;
        if (weightSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"A Conv1d's weight [C_out, C_in/groups, k] = [{outChannels}, {inChannels / groups}, {kernelSize}] has {weightSize} values, more than one tensor holds ({int.MaxValue}).");
        }

        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        (PaddingLeft, PaddingRight) = padding.Resolve(kernelSize, dilation);
        Dilation = dilation;
        Groups = groups;
        PaddingMode = paddingMode;
        hasBias = bias;
        modePadding = paddingMode == PaddingMode.Zeros ? null : new ModePadding(paddingMode, PaddingLeft, PaddingRight);
        unfolded = new UnfoldedConvolution(groups);
    }

    /// <summary>
    /// Whether a depthwise layer (groups = C_in) runs the grouped GEMMs instead of its direct kernel: the benchmark that
    /// compares the two sets it; the layer never does.
    /// </summary>
    internal bool DepthwiseByGemm { get; init; }

    /// <summary>C_in, the input's channels.</summary>
    public int InChannels { get; }

    /// <summary>C_out, the output's channels.</summary>
    public int OutChannels { get; }

    /// <summary>k, the taps of the kernel.</summary>
    public int KernelSize { get; }

    /// <summary>The step between output positions.</summary>
    public int Stride { get; }

    /// <summary>The padding as it was given: an amount on each side, <see cref="Conv1dPadding.Same"/> or <see cref="Conv1dPadding.Valid"/>.</summary>
    public Conv1dPadding Padding { get; }

    /// <summary>The positions added before the input: the padding's amount, or ⌊dilation·(k − 1)/2⌋ for 'same'.</summary>
    public int PaddingLeft { get; }

    /// <summary>The positions added after the input: the padding's amount, or dilation·(k − 1) − <see cref="PaddingLeft"/> for 'same'.</summary>
    public int PaddingRight { get; }

    /// <summary>The step between the kernel's taps.</summary>
    public int Dilation { get; }

    /// <summary>G, the groups the channels are split into (nn.Conv1d's <c>groups</c>); 1 for the ordinary convolution.</summary>
    public int Groups { get; }

    /// <summary>What the padding holds (nn.Conv1d's <c>padding_mode</c>): zeros, or the input reflected, replicated or wrapped around.</summary>
    public PaddingMode PaddingMode { get; }

    /// <summary>The weight [C_out, C_in/G, k].</summary>
    public Parameter Weight => weight ?? throw NotBuiltError();

    /// <summary>The bias [C_out]; null for a layer made with <c>bias: false</c>.</summary>
    public Parameter? Bias => hasBias ? bias ?? throw NotBuiltError() : null;

    /// <summary>L_out for an input of length <paramref name="length"/>; 0 when the kernel does not fit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">L_out is more than int.MaxValue (a padding near int.MaxValue / 2).</exception>
    public int OutputLength(int length)
    {
        long outLength = Conv1dGeometry.OutputLengthOf(length, KernelSize, Stride, PaddingLeft, PaddingRight, Dilation);
        return outLength <= int.MaxValue
            ? (int)outLength
            : throw new ArgumentOutOfRangeException(nameof(length), $"{Describe()} on an input of length {length} gives L_out = {outLength}, more than int.MaxValue.");
    }

    /// <summary>y [N, C_out, L_out] from x [N, C_in, L].</summary>
    /// <exception cref="ArgumentException">
    /// The input is not [N, C_in, L], L is 0 or too short for the kernel (L_out &lt; 1), or the sizes are more than the
    /// GEMM and its tensors take (N·L_out or C_in·k over <c>Ops.GemmMaxDimension</c>, or L_out, the unfolded input's
    /// N·L_out·C_in·k or the output's N·C_out·L_out values over int.MaxValue); nothing is allocated then.
    /// </exception>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        if (input.Rank != 3 || input.Shape[1] != InChannels)
        {
            throw new ArgumentException($"{Describe()} takes input [N, {InChannels}, L] but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        int n = input.Shape[0], length = input.Shape[2];
        if (length == 0)
        {
            // As torch.nn.Conv1d: only the batch or the channels may be empty, not the positions.
            throw new ArgumentException($"{Describe()} takes input [N, {InChannels}, L] with L at least 1 but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        if (modePadding is not null && ModePadding.Unfit(PaddingMode, PaddingLeft, PaddingRight, length) is { } unfit)
        {
            throw new ArgumentException($"{Describe()} {unfit} but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        long outLength = Conv1dGeometry.OutputLengthOf(length, KernelSize, Stride, PaddingLeft, PaddingRight, Dilation);
        if (outLength < 1)
        {
            throw new ArgumentException(
                $"{Describe()} needs an input length of at least {((long)Dilation * (KernelSize - 1)) + 1 - ((long)PaddingLeft + PaddingRight)} but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        CheckFits(input, outLength);
        var device = input.Device;
        if (Direct)
        {
            return ForwardDepthwise(input, n, (int)outLength);
        }

        int groupIn = InChannels / Groups;
        var source = modePadding?.Forward(input) ?? input;
        int sourceLength = source.Shape[2];
        var (left, right) = UnfoldPadding;
        var grouped = unfolded.GroupMajorInput(source, n, groupIn * sourceLength);
        var x = unfolded.Columns(device, n * (int)outLength, groupIn * KernelSize);
        Ops.Unfold1d(groupedShaped.Reshaped(grouped, Groups * n, groupIn, sourceLength), x, KernelSize, Stride, left, right, Dilation);
        var y = unfolded.Multiply(x, Weight.Value, Bias?.Value, n, (int)outLength);
        savedInput = input;
        return LastOutput = outputShaped.Reshaped(y, n, OutChannels, (int)outLength);
    }

    /// <summary>Accumulates dweight += dyᵀ·columns and dbias += Σ dy (group by group, or by the depthwise kernel), and returns dx [N, C_in, L].</summary>
    public override Tensor Backward(Tensor outputGradient) => Backward(outputGradient, computeInputGradient: true)!;

    /// <summary>
    /// As <see cref="Backward(Tensor)"/>; with <paramref name="computeInputGradient"/> false, dx is not computed (neither
    /// the dy·W GEMM and the fold, nor the depthwise input kernel, nor the padding mode's scatter) and null is returned.
    /// </summary>
    public override Tensor? Backward(Tensor outputGradient, bool computeInputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var y = LastOutput!;
        var device = x.Device;
        int n = y.Shape[0], outLength = y.Shape[2], sourceLength = x.Shape[2] + (modePadding is null ? 0 : PaddingLeft + PaddingRight);
        if (Direct)
        {
            return BackwardDepthwise(gradientShaped.Reshaped(outputGradient, n, OutChannels, outLength), device, n, sourceLength, computeInputGradient);
        }

        int groupIn = InChannels / Groups;
        if (unfolded.ColumnsGradient(outputGradient, Weight, Bias, n, outLength, computeInputGradient) is not { } dColumns)
        {
            return null;
        }

        var folded = unfolded.InputGradient(device, n, groupIn * sourceLength);
        var (left, right) = UnfoldPadding;
        Ops.Fold1d(dColumns, foldedGradient.Reshaped(folded, Groups * n, groupIn, sourceLength), KernelSize, Stride, left, right, Dilation);
        var dx = inputGradientShaped.Reshaped(unfolded.InputGradientToBatchFirst(folded, n), n, InChannels, sourceLength);
        return modePadding?.Backward(dx) ?? dx;
    }

    /// <summary>Registers <c>weight</c> [C_out, C_in/G, k] and <c>bias</c> [C_out] (when it has one) with nn.Conv1d's default initialisation.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int fanIn = InChannels / Groups * KernelSize;
        weight = parameters.Add(JoinName(prefix, "weight"), [OutChannels, InChannels / Groups, KernelSize], Initializers.LinearDefault(fanIn));
        if (hasBias)
        {
            bias = parameters.Add(JoinName(prefix, "bias"), [OutChannels], Initializers.LinearDefault(fanIn));
        }
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        unfolded.Dispose();
        output.Dispose();
        inputGradient.Dispose();
        depthwiseOutputAlternate.Dispose();
        depthwiseGradientAlternate.Dispose();
        modePadding?.Dispose();
    }

    // A depthwise layer (groups = C_in, any multiplier C_out/C_in) runs its direct kernel, on the padded input where a
    // padding mode pads it: no unfolded copy, no GEMM per group.
    private bool Direct => Groups == InChannels && !DepthwiseByGemm;

    private Tensor ForwardDepthwise(Tensor input, int n, int outLength)
    {
        var source = modePadding?.Forward(input) ?? input;
        var (left, right) = UnfoldPadding;
        // The kernel reads x while it writes y, so a layer applied to its own last output writes into a second buffer.
        var y = outputShaped.Reshaped(output.Get(input.Device, n, OutChannels * outLength), n, OutChannels, outLength);
        if (ReferenceEquals(y.Storage, source.Storage))
        {
            y = alternateOutputShaped.Reshaped(depthwiseOutputAlternate.Get(input.Device, n, OutChannels * outLength), n, OutChannels, outLength);
        }

        Ops.DepthwiseConv1d(source, Weight.Value, Bias?.Value, y, Stride, left, right, Dilation);
        savedInput = input;
        savedSource = source;
        return LastOutput = y;
    }

    private Tensor? BackwardDepthwise(Tensor dy, Device device, int n, int sourceLength, bool computeInputGradient)
    {
        var (left, right) = UnfoldPadding;
        Ops.DepthwiseConv1dBackwardWeight(savedSource!, dy, Weight.Gradient, Bias?.Gradient, Stride, left, right, Dilation);
        if (!computeInputGradient)
        {
            return null;
        }

        var dx = inputGradientShaped.Reshaped(inputGradient.Get(device, n, InChannels * sourceLength), n, InChannels, sourceLength);
        if (ReferenceEquals(dx.Storage, dy.Storage))
        {
            dx = alternateGradientShaped.Reshaped(depthwiseGradientAlternate.Get(device, n, InChannels * sourceLength), n, InChannels, sourceLength);
        }

        Ops.DepthwiseConv1dBackwardInput(dy, Weight.Value, dx, Stride, left, right, Dilation);
        return modePadding?.Backward(dx) ?? dx;
    }

    // The zeros the unfold adds: the padding, or none where a padding mode has padded the input already.
    private (int Left, int Right) UnfoldPadding => modePadding is null ? (PaddingLeft, PaddingRight) : (0, 0);

    // Before anything is allocated, in long: L_out first, so that N·L_out and the products after it cannot overflow (the
    // output's size in Int128: a depthwise layer, which needs no GEMM, may reach it with N·L_out past an int). The GEMM's
    // limits and the unfolded input's size hold only for the layers that run the GEMM.
    private void CheckFits(Tensor input, long outLength)
    {
        const long Gemm = Ops.GemmMaxDimension;
        long rows = input.Shape[0] * outLength, width = (long)InChannels * KernelSize;
        long padded = (long)input.Shape[0] * InChannels * ((long)input.Shape[2] + PaddingLeft + PaddingRight);
        bool gemm = !Direct;
        string? tooLarge = outLength > int.MaxValue ? $"L_out = {outLength}, more than an int holds ({int.MaxValue})"
            : gemm && rows > Gemm ? $"N·L_out = {rows} rows, more than a GEMM takes ({Gemm})"
            : gemm && width > Gemm ? $"C_in·k = {width} columns, more than a GEMM takes ({Gemm})"
            : gemm && rows * width > int.MaxValue ? $"N·L_out·C_in·k = {rows * width} values for the unfolded input, more than one tensor holds ({int.MaxValue})"
            : (Int128)rows * OutChannels > int.MaxValue ? $"N·C_out·L_out = {(Int128)rows * OutChannels} values for the output, more than one tensor holds ({int.MaxValue})"
            : modePadding is not null && padded > int.MaxValue ? $"N·C_in·(L + padding) = {padded} values for the padded input, more than one tensor holds ({int.MaxValue})"
            : null;
        if (tooLarge is not null)
        {
            throw new ArgumentException($"{Describe()} on a tensor of shape {input.ShapeText} needs {tooLarge}.", nameof(input));
        }
    }

    private string Describe() => $"Conv1d({InChannels}, {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}, dilation {Dilation}{(Groups > 1 ? $", groups {Groups}" : string.Empty)}{(PaddingMode != PaddingMode.Zeros ? $", padding mode {PaddingMode}" : string.Empty)})";
}
