using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.Linear: y = x·Wᵀ + b with <c>weight</c> [Out, In] and <c>bias</c> [Out], over the last dimension of an input
/// of any rank (y keeps the leading dimensions). On token indices it is nn.Linear applied to their one-hot
/// encoding, done as a gather of weight columns (nothing one-hot is built), and Backward scatters into them. Made with
/// <c>bias: false</c>, as nn.Linear(bias=False), it has no <c>bias</c> and y = x·Wᵀ.
/// </summary>
public sealed class Linear : Module
{
    private readonly Workspace output = new();
    private readonly Workspace inputGradient = new();
    private readonly ShapeView inputMatrix = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientMatrix = new();
    private readonly ShapeView inputGradientShaped = new();
    private readonly FlatIndexView flatIndices = new();
    private Parameter? weight;
    private Parameter? bias;
    private readonly bool hasBias;
    private Tensor? savedInput;
    private Tensor? savedInputShaped;
    private IndexTensor? savedIndices;

    /// <summary>Creates the layer; its parameters are made when the root module is built.</summary>
    /// <param name="inFeatures">Input features.</param>
    /// <param name="outFeatures">Output features.</param>
    /// <param name="bias">Whether the layer has a <c>bias</c> (nn.Linear's <c>bias</c>).</param>
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(inFeatures);
        ArgumentChecks.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        hasBias = bias;
    }

    /// <summary>
    /// The layer form: registers <c>{prefix}.weight</c> and <c>{prefix}.bias</c> in a collection the caller owns and builds,
    /// for a hand-assembled model outside a module tree (such a layer cannot be a child of a built module).
    /// </summary>
    public Linear(ParameterCollection parameters, string prefix, int inFeatures, int outFeatures)
        : this(inFeatures, outFeatures)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        CreateParameters(parameters, prefix, 0);
    }

    /// <summary>Input features (the one-hot width for index input).</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight [Out, In].</summary>
    public Parameter Weight => weight ?? throw NotBuiltError();

    /// <summary>The bias [Out]; null for a layer made with <c>bias: false</c>, as PyTorch's <c>bias</c> is None.</summary>
    public Parameter? Bias => hasBias ? bias ?? throw NotBuiltError() : null;

    /// <summary>y [..., Out] = x [..., In]·Wᵀ + b.</summary>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        if (input.Shape[^1] != InFeatures)
        {
            throw new ArgumentException($"Linear expects {InFeatures} input features but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        int rows = ShapeView.RowsByLast(input);
        var x = input.Rank == 2 ? input : inputMatrix.Matrix(input, rows, InFeatures);
        var y = output.Get(input.Device, rows, OutFeatures);
        Ops.Gemm(x, false, Weight.Value, true, y);
        if (Bias is { } b)
        {
            Ops.AddBias(y, b.Value);
        }

        savedInput = x;
        savedInputShaped = input;
        savedIndices = null;
        return LastOutput = input.Rank == 2 ? y : outputShaped.Like(y, input, OutFeatures);
    }

    /// <summary>y [..., Out] = one-hot(indices)·Wᵀ + b, as a gather: y[i] = W[:, indices[i]] + b (+ 0 without a bias).</summary>
    public override Tensor Forward(IndexTensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        var y = output.Get(input.Device, (int)input.Length, OutFeatures);
        Ops.GatherColumns(Weight.Value, flatIndices.Of(input), y, Bias?.Value);
        savedIndices = flatIndices.Of(input);
        savedInput = null;
        return LastOutput = input.Rank == 1 ? y : outputShaped.Append(y, input, OutFeatures);
    }

    /// <summary>Accumulates dW += dyᵀ·x and db += Σ dy, and returns dx = dy·W, shaped as the input (null for index input).</summary>
    public override Tensor? Backward(Tensor outputGradient) => Backward(outputGradient, computeInputGradient: true);

    /// <summary>As <see cref="Backward(Tensor)"/>; with <paramref name="computeInputGradient"/> false, dx is not computed (one GEMM less) and null is returned.</summary>
    public override Tensor? Backward(Tensor outputGradient, bool computeInputGradient)
    {
        CheckOutputGradient(outputGradient);
        int rows = ShapeView.RowsByLast(outputGradient);
        var dy = outputGradient.Rank == 2 ? outputGradient : gradientMatrix.Matrix(outputGradient, rows, OutFeatures);
        if (savedIndices is not null)
        {
            Ops.ScatterAddColumns(dy, savedIndices, Weight.Gradient);
            AccumulateBiasGradient(dy);
            return null;
        }

        var x = savedInput!;
        Ops.Gemm(dy, true, x, false, Weight.Gradient, 1f, 1f);
        AccumulateBiasGradient(dy);
        if (!computeInputGradient)
        {
            return null;
        }

        var dx = inputGradient.Get(x.Device, x.Rows, InFeatures);
        Ops.Gemm(dy, false, Weight.Value, false, dx);
        return savedInputShaped!.Rank == 2 ? dx : inputGradientShaped.Like(dx, savedInputShaped, InFeatures);
    }

    /// <summary>Its weight's device, which is its tree's once built and, in the layer form, its collection's.</summary>
    private protected override Device? ModuleDevice => weight?.Value.Device;

    /// <summary>Registers <c>weight</c> [Out, In] and <c>bias</c> [Out] (when it has one) with nn.Linear's default initialisation.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (weight is not null)
        {
            throw new InvalidOperationException("This Linear already has its parameters in a collection (the layer form); it cannot join a module tree.");
        }

        weight = parameters.Add(JoinName(prefix, "weight"), [OutFeatures, InFeatures], Initializers.LinearDefault(InFeatures));
        if (hasBias)
        {
            bias = parameters.Add(JoinName(prefix, "bias"), [OutFeatures], Initializers.LinearDefault(InFeatures));
        }
    }

    // db += Σ dy over the rows, when there is a bias.
    private void AccumulateBiasGradient(Tensor dy)
    {
        if (Bias is { } b)
        {
            Ops.SumColumns(dy, b.Gradient, accumulate: true);
        }
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers()
    {
        output.Dispose();
        inputGradient.Dispose();
    }

}
