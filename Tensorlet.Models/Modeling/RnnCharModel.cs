using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// What the recurrent char models share: the notebook's <c>lstm_char_predict</c>, a multi-layer recurrent module on
/// one-hot characters (a gather) and then the Linear head <c>output</c> on every step, composed as a
/// <see cref="Sequential"/> of the library's modules (no backward pass of its own). <see cref="LstmCharModel"/>,
/// <see cref="GruCharModel"/> and <see cref="ElmanCharModel"/> add only their recurrent module and its state type.
/// <para>Inputs and targets are time-major: row t·B + b holds step t of sequence b.</para>
/// </summary>
public abstract class RnnCharModel : Sequential, ICharModel
{
    private readonly CrossEntropyLoss loss = new();
    private readonly ShapeCache shaped = new();

    private protected RnnCharModel(Device device, string name, RnnBase rnn, int charVocabularySize, int seed)
        : base((name, rnn), ("output", new Linear(rnn.HiddenSize, charVocabularySize)))
    {
        ArgumentNullException.ThrowIfNull(device);
        CharVocabularySize = charVocabularySize;
        Build(device, seed);
        DropoutSeed = (ulong)seed;
    }

    /// <inheritdoc/>
    public abstract ModelKind Kind { get; }

    /// <inheritdoc/>
    public int CharVocabularySize { get; }

    /// <summary>H.</summary>
    public int HiddenSize => Rnn.HiddenSize;

    /// <summary>Stacked recurrent layers.</summary>
    public int NumLayers => Rnn.NumLayers;

    /// <summary>Dropout between the recurrent layers.</summary>
    public float Dropout => Rnn.DropoutProbability;

    /// <summary>The Linear head.</summary>
    public Linear Output => (Linear)this[1];

    /// <summary>The seed of the dropout masks.</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>
    /// Truncated backpropagation through time: while set, each <see cref="ForwardLoss"/> starts from the state the
    /// previous one ended with (zeros after <see cref="ResetState"/> or a change of batch size), and its gradient stops
    /// there. For batches that continue each other, as a <see cref="Training.StreamBatchSource"/>'s do.
    /// </summary>
    public bool CarryState
    {
        get => Rnn.CarryState;
        set => Rnn.CarryState = value;
    }

    private RnnBase Rnn => (RnnBase)this[0];

    /// <summary>Forgets the carried state: the next <see cref="ForwardLoss"/> starts from zeros.</summary>
    public void ResetState() => Rnn.ResetState();

    /// <summary>Per-row losses for inputs and targets [T·B], time-major, of <paramref name="batch"/> sequences.</summary>
    public Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step)
    {
        ThrowIfModuleDisposed();
        CharModelTargets.ThrowUnlessFit(this, inputs, targets);
        var logits = Logits(inputs, batch, training, step, null, null);
        return loss.ForwardRows(logits, targets);
    }

    /// <inheritdoc/>
    public void Backward() => Backward(loss.Backward(), computeInputGradient: false);

    /// <summary>
    /// Logits [T·B, V] for time-major inputs, optionally starting from and updating a state of the recurrent module's
    /// kind; owned by the model until the next call.
    /// </summary>
    private protected Tensor Logits(IndexTensor inputs, int batch, bool training, long step, RnnState? initialState, RnnState? finalState)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(inputs);

        // Before the mode, the dropout key and the initial state change: nothing restores the first two when Forward throws.
        CheckInputDevice(inputs);
        Rnn.CheckInitialState(initialState, batch);
        Train(training);
        SetRandomState(DropoutSeed, (ulong)step);

        // The initial state is this call's only: the module's own InitialState (the caller's, if set) is put back after.
        var moduleInitial = Rnn.Initial;
        Rnn.Initial = initialState;
        try
        {
            var logits = Forward(shaped.TimeMajor(inputs, batch));
            finalState?.CopyFrom(Rnn.Final!);
            return shaped.Matrix(logits);
        }
        finally
        {
            Rnn.Initial = moduleInitial;
        }
    }

    /// <inheritdoc/>
    protected override void DisposeBuffers() => loss.Dispose();
}
