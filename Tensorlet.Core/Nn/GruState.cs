namespace Tensorlet.Nn;

/// <summary>The h state of a multi-layer GRU: per layer (and direction, when bidirectional), h of shape [B, H]. Made by <see cref="Gru.CreateState"/> or <see cref="Clone"/>, it owns its tensors; a module's <see cref="Gru.FinalState"/> is the module's buffer, valid until its next Forward (see <see cref="RnnState"/>).</summary>
public sealed class GruState : RnnState
{
    internal GruState(Device device, int layers, int batch, int hiddenSize)
        : this(batch, Zeros(device, layers, batch, hiddenSize))
    {
    }

    private GruState(int batch, Tensor[] hidden)
        : base(batch, hidden)
    {
    }

    /// <inheritdoc/>
    public override GruState Clone() => (GruState)base.Clone();

    /// <inheritdoc/>
    private protected override RnnState WithParts(int batch, Tensor[][] parts) => new GruState(batch, parts[0]);
}
