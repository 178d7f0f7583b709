namespace Tensorlet.Nn;

/// <summary>
/// nn.Embedding: <c>weight</c> [NumEmbeddings, Dim], initialised from N(0, 1) as PyTorch does; token indices of any
/// shape give [..., Dim] by a row gather, and Backward scatter-adds the gradient into the rows used (no input gradient).
/// </summary>
public sealed class Embedding : Module
{
    private readonly Workspace output = new();
    private readonly ShapeView outputShaped = new();
    private readonly ShapeView gradientMatrix = new();
    private readonly FlatIndexView flatIndices = new();
    private Parameter? weight;
    private IndexTensor? savedIndices;

    /// <summary>Creates the table; its weight is made when the root module is built.</summary>
    public Embedding(int numEmbeddings, int embeddingDim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numEmbeddings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingDim);
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
    }

    /// <summary>The number of rows (the vocabulary size).</summary>
    public int NumEmbeddings { get; }

    /// <summary>The width of each row.</summary>
    public int EmbeddingDim { get; }

    /// <summary>The table [NumEmbeddings, Dim].</summary>
    public Parameter Weight => weight ?? throw NotBuiltError();

    /// <summary>y[..., :] = weight[indices[...], :].</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, NumEmbeddings).</exception>
    public override Tensor Forward(IndexTensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        var flat = flatIndices.Of(input);
        var y = output.Get(input.Device, (int)input.Length, EmbeddingDim);
        Ops.GatherRows(Weight.Value, flat, y);
        savedIndices = flat;
        return LastOutput = input.Rank == 1 ? y : outputShaped.Append(y, input, EmbeddingDim);
    }

    /// <summary>Accumulates dWeight[indices[i], :] += dy[i, :]; returns null (indices have no gradient).</summary>
    public override Tensor? Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var indices = savedIndices!;
        var dy = outputGradient.Rank == 2 ? outputGradient : gradientMatrix.Matrix(outputGradient, (int)indices.Length, EmbeddingDim);
        Ops.ScatterAddRows(dy, indices, Weight.Gradient);
        return null;
    }

    /// <summary>Registers <c>weight</c> [NumEmbeddings, Dim], drawn from N(0, 1).</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        weight = parameters.Add(JoinName(prefix, "weight"), [NumEmbeddings, EmbeddingDim], Initializers.StandardNormal());
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => output.Dispose();
}
