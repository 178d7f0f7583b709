using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The notebook's <c>lstm_char_predict</c>: nn.LSTM(vocab, hidden, layers, dropout) on one-hot characters, then the
/// Linear head <c>output</c> on every step, composed as a <see cref="Sequential"/> of the library's <see cref="Nn.Lstm"/>
/// and <see cref="Linear"/> (no backward pass of its own). Parameter names match its state_dict
/// (<c>lstm.weight_ih_l0</c> … <c>output.bias</c>). The one-hot input is a gather.
/// <para>Inputs and targets are time-major: row t·B + b holds step t of sequence b.</para>
/// </summary>
public sealed class LstmCharModel : Sequential, ICharModel, IStatefulCharModel
{
    private readonly CrossEntropyLoss loss = new();
    private readonly ShapeCache shaped = new();

    /// <summary>Creates the model on <paramref name="device"/> with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public LstmCharModel(Device device, int charVocabularySize, int hiddenSize, int numLayers, float dropout, int seed)
        : base(("lstm", new Nn.Lstm(charVocabularySize, hiddenSize, numLayers, dropout)), ("output", new Linear(hiddenSize, charVocabularySize)))
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
    public ModelKind Kind => ModelKind.Lstm;

    /// <inheritdoc/>
    public int CharVocabularySize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked LSTM layers.</summary>
    public int NumLayers { get; }

    /// <summary>Dropout between LSTM layers.</summary>
    public float Dropout { get; }

    /// <summary>The LSTM.</summary>
    public Nn.Lstm Lstm => (Nn.Lstm)this[0];

    /// <summary>The Linear head.</summary>
    public Linear Output => (Linear)this[1];

    /// <summary>The seed of the dropout masks.</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>
    /// Truncated backpropagation through time: while set, each <see cref="ForwardLoss"/> starts from the (h, c) the
    /// previous one ended with (zeros after <see cref="ResetState"/> or a change of batch size), and its gradient stops
    /// there. For batches that continue each other, as a <see cref="Training.StreamBatchSource"/>'s do.
    /// </summary>
    public bool CarryState
    {
        get => Lstm.CarryState;
        set => Lstm.CarryState = value;
    }

    /// <summary>Forgets the carried state: the next <see cref="ForwardLoss"/> starts from zeros.</summary>
    public void ResetState() => Lstm.ResetState();

    /// <summary>Per-row losses for inputs and targets [T·B], time-major, of <paramref name="batch"/> sequences.</summary>
    public Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step)
    {
        var logits = Logits(inputs, batch, training, step, null, null);
        return loss.ForwardRows(logits, targets);
    }

    /// <inheritdoc/>
    public void Backward() => Backward(loss.Backward());

    /// <summary>
    /// Logits [T·B, V] for time-major inputs, optionally starting from and updating an (h, c) state;
    /// owned by the model until the next call.
    /// </summary>
    public Tensor Logits(IndexTensor inputs, int batch, bool training, long step, LstmState? initialState, LstmState? finalState)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Train(training);
        SetRandomState(DropoutSeed, (ulong)step);
        Lstm.InitialState = initialState;
        var logits = Forward(shaped.TimeMajor(inputs, batch));
        Lstm.InitialState = null;
        if (finalState is not null)
        {
            var final = Lstm.FinalState!;
            for (int k = 0; k < NumLayers; k++)
            {
                Ops.Copy(final.Hidden[k], finalState.Hidden[k]);
                Ops.Copy(final.Cell[k], finalState.Cell[k]);
            }
        }

        return shaped.Matrix(logits);
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => loss.Dispose();
}
