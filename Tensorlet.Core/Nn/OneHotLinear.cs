namespace Tensorlet.Nn;

/// <summary>
/// nn.Linear applied to one-hot inputs, done as a lookup: y[i] = W[:, x[i]] + b. It has exactly the
/// parameters and gradients of nn.Linear(In, Out) fed with one-hot(x), without ever materialising
/// the one-hot matrix (the notebook's n-gram input would be 2.8 GB at n = 3).
/// </summary>
public sealed class OneHotLinear : IDisposable
{
    private readonly Workspace output = new();
    private IndexTensor? savedIndices;

    /// <summary>Registers <c>{prefix}.weight</c> [Out, In] and <c>{prefix}.bias</c> [Out] with nn.Linear's default initialisation.</summary>
    public OneHotLinear(ParameterCollection parameters, string prefix, int inFeatures, int outFeatures)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = parameters.Add($"{prefix}.weight", [outFeatures, inFeatures], Initializers.LinearDefault(inFeatures));
        Bias = parameters.Add($"{prefix}.bias", [outFeatures], Initializers.LinearDefault(inFeatures));
    }

    /// <summary>The one-hot width (vocabulary size).</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight [Out, In].</summary>
    public Parameter Weight { get; }

    /// <summary>The bias [Out].</summary>
    public Parameter Bias { get; }

    /// <summary>y [N, Out] for indices [N]; owned by the layer, valid until the next Forward.</summary>
    public Tensor Forward(IndexTensor indices)
    {
        var y = output.Get(indices.Device, (int)indices.Length, OutFeatures);
        Ops.GatherColumns(Weight.Value, indices, y);
        Ops.AddBias(y, Bias.Value);
        savedIndices = indices;
        return y;
    }

    /// <summary>Accumulates dW[:, x[i]] += dy[i] and db += Σ dy. There is no input gradient: the input is discrete.</summary>
    public void Backward(Tensor outputGradient)
    {
        var indices = savedIndices ?? throw new InvalidOperationException("OneHotLinear.Backward was called before Forward.");
        Ops.ScatterAddColumns(outputGradient, indices, Weight.Gradient);
        Ops.SumColumns(outputGradient, Bias.Gradient, accumulate: true);
    }

    /// <summary>Frees the layer's buffers.</summary>
    public void Dispose() => output.Dispose();
}
