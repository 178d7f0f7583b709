namespace Tensorlet.Nn;

/// <summary>
/// nn.Linear: y = x·Wᵀ + b with W [Out, In]. Forward keeps a reference to its input for Backward,
/// which accumulates dW and db and returns dx.
/// </summary>
public sealed class Linear : IDisposable
{
    private readonly Workspace output = new();
    private readonly Workspace inputGradient = new();
    private Tensor? savedInput;

    /// <summary>Registers <c>{prefix}.weight</c> [Out, In] and <c>{prefix}.bias</c> [Out] with nn.Linear's default initialisation.</summary>
    public Linear(ParameterCollection parameters, string prefix, int inFeatures, int outFeatures)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = parameters.Add($"{prefix}.weight", [outFeatures, inFeatures], Initializers.LinearDefault(inFeatures));
        Bias = parameters.Add($"{prefix}.bias", [outFeatures], Initializers.LinearDefault(inFeatures));
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight [Out, In].</summary>
    public Parameter Weight { get; }

    /// <summary>The bias [Out].</summary>
    public Parameter Bias { get; }

    /// <summary>y [N, Out] = x [N, In]·Wᵀ + b. The result is owned by the layer and valid until the next Forward.</summary>
    public Tensor Forward(Tensor input)
    {
        if (input.Columns != InFeatures)
        {
            throw new ArgumentException($"Linear expects {InFeatures} input features but got a tensor of shape {input.ShapeText}.", nameof(input));
        }

        var y = output.Get(input.Device, input.Rows, OutFeatures);
        Ops.Gemm(input, false, Weight.Value, true, y);
        Ops.AddBias(y, Bias.Value);
        savedInput = input;
        return y;
    }

    /// <summary>Accumulates dW += dyᵀ·x and db += Σ dy, and returns dx = dy·W (owned by the layer), or null when not asked for.</summary>
    public Tensor? Backward(Tensor outputGradient, bool computeInputGradient = true)
    {
        var x = savedInput ?? throw new InvalidOperationException("Linear.Backward was called before Forward.");
        Ops.Gemm(outputGradient, true, x, false, Weight.Gradient, 1f, 1f);
        Ops.SumColumns(outputGradient, Bias.Gradient, accumulate: true);
        if (!computeInputGradient)
        {
            return null;
        }

        var dx = inputGradient.Get(x.Device, x.Rows, InFeatures);
        Ops.Gemm(outputGradient, false, Weight.Value, false, dx);
        return dx;
    }

    /// <summary>Frees the layer's buffers (not its parameters, which the collection owns).</summary>
    public void Dispose()
    {
        output.Dispose();
        inputGradient.Dispose();
    }
}
