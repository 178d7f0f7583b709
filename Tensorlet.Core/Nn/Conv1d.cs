using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.Conv1d with groups = 1 and zero padding: y [N, C_out, L_out] = Σ_{c, j} weight[o, c, j]·x[n, c, t·stride −
/// padding + j·dilation] + bias[o] for x [N, C_in, L], with L_out = ⌊(L + 2·padding − dilation·(k − 1) − 1)/stride⌋ + 1.
/// <c>weight</c> [C_out, C_in, k] and <c>bias</c> [C_out] (none with <c>bias: false</c>) have nn.Conv1d's state_dict
/// names, order and default initialisation, U(−1/√(C_in·k), 1/√(C_in·k)). Grouped convolution and the padding modes
/// other than zeros (reflect, replicate, circular, 'same') are not offered.
/// <para>
/// The input is unfolded (im2col) into rows [N·L_out, C_in·k], one per output position, so the convolution is one GEMM
/// with the weight read as [C_out, C_in·k]; the product's rows [N·L_out, C_out] are then laid out as [N, C_out, L_out].
/// Backward lays dy out as rows the same way, adds dyᵀ·columns to the weight's gradient and dy's column sums to the
/// bias's, and folds dy·W (col2im) into dx.
/// </para>
/// </summary>
public sealed class Conv1d : Module
{
    private readonly Workspace columns = new();
    private readonly Workspace outputRows = new();
    private readonly Workspace output = new();
    private readonly Workspace gradientRows = new();
    private readonly Workspace columnsGradient = new();
    private readonly Workspace inputGradient = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientShaped = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly bool hasBias;
    private Parameter? weight;
    private Parameter? bias;
    private Tensor? savedInput;
    private Tensor? savedColumns;

    /// <summary>Creates the layer; its parameters are made when the root module is built.</summary>
    /// <param name="inChannels">C_in, the input's channels (dimension 1).</param>
    /// <param name="outChannels">C_out, the output's channels.</param>
    /// <param name="kernelSize">k, the taps of the kernel.</param>
    /// <param name="stride">The step between output positions.</param>
    /// <param name="padding">The zeros added on each side of the input.</param>
    /// <param name="dilation">The step between the kernel's taps.</param>
    /// <param name="bias">Whether the layer has a <c>bias</c> (nn.Conv1d's <c>bias</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A channel count, k, the stride or the dilation is not positive, the padding is negative, or the weight's
    /// C_out·C_in·k values are more than one tensor holds.
    /// </exception>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, bool bias = true)
    {
        Conv1dGeometry.AtLeast(inChannels, 1, nameof(inChannels));
        Conv1dGeometry.AtLeast(outChannels, 1, nameof(outChannels));
        Conv1dGeometry.CheckSizes(kernelSize, stride, padding, dilation);
        long weightSize = (long)outChannels * inChannels * kernelSize;
        if (weightSize > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"A Conv1d's weight [C_out, C_in, k] = [{outChannels}, {inChannels}, {kernelSize}] has {weightSize} values, more than one tensor holds ({int.MaxValue}).");
        }

        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        hasBias = bias;
    }

    /// <summary>C_in, the input's channels.</summary>
    public int InChannels { get; }

    /// <summary>C_out, the output's channels.</summary>
    public int OutChannels { get; }

    /// <summary>k, the taps of the kernel.</summary>
    public int KernelSize { get; }

    /// <summary>The step between output positions.</summary>
    public int Stride { get; }

    /// <summary>The zeros added on each side of the input.</summary>
    public int Padding { get; }

    /// <summary>The step between the kernel's taps.</summary>
    public int Dilation { get; }

    /// <summary>The weight [C_out, C_in, k].</summary>
    public Parameter Weight => weight ?? throw NotBuiltError();

    /// <summary>The bias [C_out]; null for a layer made with <c>bias: false</c>.</summary>
    public Parameter? Bias => hasBias ? bias ?? throw NotBuiltError() : null;

    /// <summary>L_out for an input of length <paramref name="length"/>; 0 when the kernel does not fit.</summary>
    /// <exception cref="ArgumentOutOfRangeException">L_out is more than int.MaxValue (a padding near int.MaxValue / 2).</exception>
    public int OutputLength(int length)
    {
        long outLength = Conv1dGeometry.OutputLengthOf(length, KernelSize, Stride, Padding, Dilation);
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

        long outLength = Conv1dGeometry.OutputLengthOf(length, KernelSize, Stride, Padding, Dilation);
        if (outLength < 1)
        {
            throw new ArgumentException(
                $"{Describe()} needs an input length of at least {((long)Dilation * (KernelSize - 1)) + 1 - (2L * Padding)} but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        CheckFits(input, outLength);
        var device = input.Device;
        int rowCount = n * (int)outLength;
        var x = columns.Get(device, rowCount, InChannels * KernelSize);
        Ops.Unfold1d(input, x, KernelSize, Stride, Padding, Dilation);
        var rows = outputRows.Get(device, rowCount, OutChannels);
        Ops.Gemm(x, false, Weight.Value, true, rows);
        if (Bias is { } b)
        {
            Ops.AddBias(rows, b.Value);
        }

        var y = outputShaped.Reshaped(output.Get(device, n * OutChannels, (int)outLength), n, OutChannels, (int)outLength);
        Ops.Fold1d(rows, y, 1, 1, 0, 1);
        savedInput = input;
        savedColumns = x;
        return LastOutput = y;
    }

    /// <summary>Accumulates dweight += dyᵀ·columns and dbias += Σ dy, and returns dx [N, C_in, L].</summary>
    public override Tensor Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var x = savedInput!;
        var y = LastOutput!;
        int n = y.Shape[0], outLength = y.Shape[2];
        var dy = outputGradient.Rank == 3 ? outputGradient : gradientShaped.Reshaped(outputGradient, n, OutChannels, outLength);
        var dyRows = gradientRows.Get(x.Device, n * outLength, OutChannels);
        Ops.Unfold1d(dy, dyRows, 1, 1, 0, 1);
        Ops.Gemm(dyRows, true, savedColumns!, false, Weight.Gradient, 1f, 1f);
        if (Bias is { } b)
        {
            Ops.SumColumns(dyRows, b.Gradient, accumulate: true);
        }

        var dColumns = columnsGradient.Get(x.Device, n * outLength, InChannels * KernelSize);
        Ops.Gemm(dyRows, false, Weight.Value, false, dColumns);
        var dx = inputGradientShaped.Reshaped(inputGradient.Get(x.Device, n * InChannels, x.Shape[2]), n, InChannels, x.Shape[2]);
        Ops.Fold1d(dColumns, dx, KernelSize, Stride, Padding, Dilation);
        return dx;
    }

    /// <summary>Registers <c>weight</c> [C_out, C_in, k] and <c>bias</c> [C_out] (when it has one) with nn.Conv1d's default initialisation.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        int fanIn = InChannels * KernelSize;
        weight = parameters.Add(JoinName(prefix, "weight"), [OutChannels, InChannels, KernelSize], Initializers.LinearDefault(fanIn));
        if (hasBias)
        {
            bias = parameters.Add(JoinName(prefix, "bias"), [OutChannels], Initializers.LinearDefault(fanIn));
        }
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        columns.Dispose();
        outputRows.Dispose();
        output.Dispose();
        gradientRows.Dispose();
        columnsGradient.Dispose();
        inputGradient.Dispose();
    }

    // Before anything is allocated, in long: L_out first, so that N·L_out and the products after it cannot overflow.
    private void CheckFits(Tensor input, long outLength)
    {
        const long Gemm = Ops.GemmMaxDimension;
        long rows = input.Shape[0] * outLength, width = (long)InChannels * KernelSize;
        string? tooLarge = outLength > int.MaxValue ? $"L_out = {outLength}, more than an int holds ({int.MaxValue})"
            : rows > Gemm ? $"N·L_out = {rows} rows, more than a GEMM takes ({Gemm})"
            : width > Gemm ? $"C_in·k = {width} columns, more than a GEMM takes ({Gemm})"
            : rows * width > int.MaxValue ? $"N·L_out·C_in·k = {rows * width} values for the unfolded input, more than one tensor holds ({int.MaxValue})"
            : rows * OutChannels > int.MaxValue ? $"N·C_out·L_out = {rows * OutChannels} values for the output, more than one tensor holds ({int.MaxValue})"
            : null;
        if (tooLarge is not null)
        {
            throw new ArgumentException($"{Describe()} on a tensor of shape {input.ShapeText} needs {tooLarge}.", nameof(input));
        }
    }

    private string Describe() => $"Conv1d({InChannels}, {OutChannels}, kernel {KernelSize}, stride {Stride}, padding {Padding}, dilation {Dilation})";
}
