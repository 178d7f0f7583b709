namespace Tensorlet.Nn;

/// <summary>
/// Inverted dropout (nn.Dropout). The mask comes from a counter-based generator keyed by
/// (seed, stream), so Backward recomputes it instead of storing it, and every device draws the same mask.
/// </summary>
public sealed class Dropout : IDisposable
{
    private readonly Workspace output = new();
    private ulong seed;
    private ulong stream;
    private bool applied;

    /// <summary>Creates a dropout with drop probability <paramref name="probability"/> in [0, 1).</summary>
    public Dropout(float probability)
    {
        if (!(probability >= 0f && probability < 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");
        }

        Probability = probability;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public float Probability { get; }

    /// <summary>
    /// In training, returns x with elements zeroed with probability p and the rest scaled by 1/(1−p),
    /// in a buffer owned by the layer; otherwise returns x itself.
    /// </summary>
    public Tensor Forward(Tensor x, bool training, ulong seed, ulong stream)
    {
        applied = training && Probability > 0f;
        if (!applied)
        {
            return x;
        }

        this.seed = seed;
        this.stream = stream;
        var y = output.Get(x.Device, x.Rows, x.Columns);
        Ops.Dropout(x, y, Probability, seed, stream);
        return y;
    }

    /// <summary>Applies the same mask to the gradient, in place, and returns it.</summary>
    public Tensor Backward(Tensor outputGradient)
    {
        if (applied)
        {
            Ops.Dropout(outputGradient, outputGradient, Probability, seed, stream);
        }

        return outputGradient;
    }

    /// <summary>Frees the layer's buffer.</summary>
    public void Dispose() => output.Dispose();
}
