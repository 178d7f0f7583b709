namespace Tensorlet.Nn;

/// <summary>The (h, c) state of a multi-layer LSTM: per layer (and direction, when bidirectional), h and c of shape [B, H]. Made by <see cref="Lstm.CreateState"/> or <see cref="Clone"/>, it owns its tensors; a module's <see cref="Lstm.FinalState"/> is the module's buffer, valid until its next Forward (see <see cref="RnnState"/>).</summary>
public sealed class LstmState : RnnState
{
    internal LstmState(Device device, int layers, int batch, int hiddenSize)
        : this(batch, Zeros(device, layers, batch, hiddenSize), Zeros(device, layers, batch, hiddenSize))
    {
    }

    private LstmState(int batch, Tensor[] hidden, Tensor[] cell)
        : base(batch, hidden, cell)
    {
        CellTensors = cell;
    }

    /// <inheritdoc/>
    public override LstmState Clone() => (LstmState)base.Clone();

    /// <inheritdoc/>
    private protected override RnnState WithParts(int batch, Tensor[][] parts) => new LstmState(batch, parts[0], parts[1]);

    /// <summary>c per layer (and direction, ordered as <see cref="RnnState.Hidden"/>), [B, H] each.</summary>
    /// <exception cref="InvalidOperationException">The state is a FinalState that a later Forward has overwritten: its tensors hold the module's current state.</exception>
    public IReadOnlyList<Tensor> Cell
    {
        get
        {
            ThrowIfOverwritten();
            return CellTensors;
        }
    }

    /// <summary>c per layer, unchecked: for the library's own reads of states it has checked or owns.</summary>
    internal IReadOnlyList<Tensor> CellTensors { get; }
}
