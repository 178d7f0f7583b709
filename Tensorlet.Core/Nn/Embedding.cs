using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.Embedding: <c>weight</c> [NumEmbeddings, Dim], initialised from N(0, 1) as PyTorch does; token indices of any
/// shape give [..., Dim] by a row gather, and Backward scatter-adds the gradient into the rows used (no input gradient).
/// With a <see cref="PaddingIdx"/>, as nn.Embedding(padding_idx=...), that row starts at zero and Backward adds nothing
/// to its gradient: Forward reads it as it is, and training changes it only by an optimizer's weight decay.
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
    /// <param name="numEmbeddings">The number of rows (the vocabulary size).</param>
    /// <param name="embeddingDim">The width of each row.</param>
    /// <param name="paddingIdx">nn.Embedding's <c>padding_idx</c>: the row that starts at zero and gets no gradient, in
    /// [−numEmbeddings, numEmbeddings), a negative one counting from the end; null for none.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or <paramref name="paddingIdx"/> is outside [−numEmbeddings, numEmbeddings).</exception>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(numEmbeddings);
        ArgumentChecks.ThrowIfNegativeOrZero(embeddingDim);
        if (paddingIdx is { } padding && (padding < -numEmbeddings || padding >= numEmbeddings))
        {
            // Without the actual value, whose overload adds a second line to the message: the text names it.
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"padding_idx {padding} is outside [-{numEmbeddings}, {numEmbeddings}), the range for an Embedding of {numEmbeddings} rows.");
        }

        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        PaddingIdx = paddingIdx < 0 ? numEmbeddings + paddingIdx : paddingIdx;
    }

    /// <summary>The number of rows (the vocabulary size).</summary>
    public int NumEmbeddings { get; }

    /// <summary>The width of each row.</summary>
    public int EmbeddingDim { get; }

    /// <summary>
    /// The padding row in [0, NumEmbeddings), a negative <c>paddingIdx</c> already counted from the end (as PyTorch
    /// stores <c>padding_idx</c>); null for none. It is not in the state_dict, as in PyTorch.
    /// </summary>
    public int? PaddingIdx { get; }

    /// <summary>The table [NumEmbeddings, Dim].</summary>
    public Parameter Weight => weight ?? throw NotBuiltError();

    /// <summary>y[..., :] = weight[indices[...], :].</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, NumEmbeddings).</exception>
    public override Tensor Forward(IndexTensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        var flat = flatIndices.Of(input);
        var y = output.Get(input.Device, (int)input.Length, EmbeddingDim);
        Ops.GatherRows(Weight.Value, flat, y);
        savedIndices = flat;
        return LastOutput = input.Rank == 1 ? y : outputShaped.Append(y, input, EmbeddingDim);
    }

    /// <summary>
    /// Accumulates dWeight[indices[i], :] += dy[i, :] for every i whose index is not <see cref="PaddingIdx"/>; returns
    /// null (indices have no gradient).
    /// </summary>
    public override Tensor? Backward(Tensor outputGradient)
    {
        CheckOutputGradient(outputGradient);
        var indices = savedIndices!;
        var dy = outputGradient.Rank == 2 ? outputGradient : gradientMatrix.Matrix(outputGradient, (int)indices.Length, EmbeddingDim);

        // The scatter itself skips the padding positions, as PyTorch's embedding backward does. Zeroing the row after a
        // full scatter would also erase what its gradient held before this call, and restoring it would still pile every
        // padding position's atomics onto one row on a GPU; skipping is one comparison per row of dy.
        Ops.ScatterAddRows(dy, indices, Weight.Gradient, PaddingIdx ?? -1);
        return null;
    }

    /// <summary>Registers <c>weight</c> [NumEmbeddings, Dim], drawn from N(0, 1), its padding row (if any) then zero.</summary>
    protected override void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var initializer = PaddingIdx is { } padding ? Initializers.StandardNormalZeroRow(EmbeddingDim, padding) : Initializers.StandardNormal();
        weight = parameters.Add(JoinName(prefix, "weight"), [NumEmbeddings, EmbeddingDim], initializer);
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => output.Dispose();
}
