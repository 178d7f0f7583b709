namespace Tensorlet.Nn;

/// <summary>The hidden state of a multi-layer <see cref="Rnn"/>: per layer (and direction, when bidirectional), h of shape [B, H]. Made by <see cref="Rnn.CreateState"/> or <see cref="Clone"/>, it owns its tensors; a module's <see cref="Rnn.FinalState"/> is the module's buffer, valid until its next Forward (see <see cref="RnnState"/>).</summary>
public sealed class RnnHiddenState : RnnState
{
    internal RnnHiddenState(Device device, int layers, int batch, int hiddenSize)
        : this(batch, Zeros(device, layers, batch, hiddenSize))
    {
    }

    private RnnHiddenState(int batch, Tensor[] hidden)
        : base(batch, hidden)
    {
    }

    /// <inheritdoc/>
    public override RnnHiddenState Clone() => (RnnHiddenState)base.Clone();

    /// <inheritdoc/>
    private protected override RnnState WithParts(int batch, Tensor[][] parts) => new RnnHiddenState(batch, parts[0]);
}
