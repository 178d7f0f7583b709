using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The notebook's <c>lstm_char_predict</c> with nn.GRU in nn.LSTM's place: nn.GRU(vocab, hidden, layers, dropout) on
/// one-hot characters, then the Linear head <c>output</c> on every step, composed as a <see cref="Sequential"/> of the
/// library's <see cref="Nn.Gru"/> and <see cref="Linear"/> (no backward pass of its own). Parameter names match that
/// module's state_dict (<c>gru.weight_ih_l0</c> … <c>output.bias</c>). The one-hot input is a gather.
/// <para>Inputs and targets are time-major: row t·B + b holds step t of sequence b.</para>
/// </summary>
public sealed class GruCharModel : Sequential, ICharModel, IStatefulCharModel
{
    private readonly CrossEntropyLoss loss = new();
    private readonly ShapeCache shaped = new();

    /// <summary>Creates the model on <paramref name="device"/> with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public GruCharModel(Device device, int charVocabularySize, int hiddenSize, int numLayers, float dropout, int seed)
        : base(("gru", new Nn.Gru(charVocabularySize, hiddenSize, numLayers, dropout)), ("output", new Linear(hiddenSize, charVocabularySize)))
    {
        ArgumentNullException.ThrowIfNull(device);
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Dropout = dropout;
        CharVocabularySize = charVocabularySize;
        Build(device, seed);
        DropoutSeed = (ulong)seed;
    }

    /// <inheritdoc/>
    public ModelKind Kind => ModelKind.Gru;

    /// <inheritdoc/>
    public int CharVocabularySize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked GRU layers.</summary>
    public int NumLayers { get; }

    /// <summary>Dropout between GRU layers.</summary>
    public float Dropout { get; }

    /// <summary>The GRU.</summary>
    public Nn.Gru Gru => (Nn.Gru)this[0];

    /// <summary>The Linear head.</summary>
    public Linear Output => (Linear)this[1];

    /// <summary>The seed of the dropout masks.</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>
    /// Truncated backpropagation through time: while set, each <see cref="ForwardLoss"/> starts from the h the previous
    /// one ended with (zeros after <see cref="ResetState"/> or a change of batch size), and its gradient stops there. For
    /// batches that continue each other, as a <see cref="Training.StreamBatchSource"/>'s do.
    /// </summary>
    public bool CarryState
    {
        get => Gru.CarryState;
        set => Gru.CarryState = value;
    }

    /// <summary>Forgets the carried state: the next <see cref="ForwardLoss"/> starts from zeros.</summary>
    public void ResetState() => Gru.ResetState();

    /// <summary>Per-row losses for inputs and targets [T·B], time-major, of <paramref name="batch"/> sequences.</summary>
    public Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step)
    {
        var logits = Logits(inputs, batch, training, step, null, null);
        return loss.ForwardRows(logits, targets);
    }

    /// <inheritdoc/>
    public void Backward() => Backward(loss.Backward());

    /// <summary>
    /// Logits [T·B, V] for time-major inputs, optionally starting from and updating an h state;
    /// owned by the model until the next call.
    /// </summary>
    public Tensor Logits(IndexTensor inputs, int batch, bool training, long step, GruState? initialState, GruState? finalState)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Train(training);
        SetRandomState(DropoutSeed, (ulong)step);
        Gru.InitialState = initialState;
        var logits = Forward(shaped.TimeMajor(inputs, batch));
        Gru.InitialState = null;
        if (finalState is not null)
        {
            var final = Gru.FinalState!;
            for (int k = 0; k < NumLayers; k++)
            {
                Ops.Copy(final.Hidden[k], finalState.Hidden[k]);
            }
        }

        return shaped.Matrix(logits);
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => loss.Dispose();
}
