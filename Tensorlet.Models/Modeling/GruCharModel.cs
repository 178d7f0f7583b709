using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The notebook's <c>lstm_char_predict</c> with nn.GRU in nn.LSTM's place: nn.GRU(vocab, hidden, layers,
/// batch_first=True, dropout) on one-hot characters, then the Linear head <c>output</c> on every step. Parameter names
/// match that module's state_dict (<c>gru.weight_ih_l0</c> … <c>output.bias</c>). The one-hot input is a gather.
/// <para>Inputs and targets are time-major: row t·B + b holds step t of sequence b.</para>
/// </summary>
public sealed class GruCharModel : ICharModel
{
    private readonly Workspace losses = new();
    private Tensor? logitGradients;

    /// <summary>Creates the model on <paramref name="device"/> with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public GruCharModel(Device device, int charVocabularySize, int hiddenSize, int numLayers, float dropout, int seed)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Dropout = dropout;
        CharVocabularySize = charVocabularySize;
        Gru = new Gru(Parameters, "gru", charVocabularySize, hiddenSize, numLayers, dropout);
        Output = new Linear(Parameters, "output", hiddenSize, charVocabularySize);
        Parameters.Build(device, seed);
        DropoutSeed = (ulong)seed;
    }

    /// <inheritdoc/>
    public ModelKind Kind => ModelKind.Gru;

    /// <inheritdoc/>
    public Device Device { get; }

    /// <inheritdoc/>
    public ParameterCollection Parameters { get; } = new();

    /// <inheritdoc/>
    public int CharVocabularySize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked GRU layers.</summary>
    public int NumLayers { get; }

    /// <summary>Dropout between GRU layers.</summary>
    public float Dropout { get; }

    /// <summary>The GRU.</summary>
    public Gru Gru { get; }

    /// <summary>The Linear head.</summary>
    public Linear Output { get; }

    /// <summary>The seed of the dropout masks.</summary>
    public ulong DropoutSeed { get; set; }

    /// <summary>Per-row losses for inputs and targets [T·B], time-major, of <paramref name="batch"/> sequences.</summary>
    public Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step)
    {
        var logits = Logits(inputs, batch, training, step, null, null);
        var rowLosses = losses.Get(Device, logits.Rows, 1);

        // The logits buffer becomes dLogits in place; nothing reads the logits afterwards.
        Ops.SoftmaxCrossEntropy(logits, targets, rowLosses, logits, 1f / logits.Rows);
        logitGradients = logits;
        return rowLosses;
    }

    /// <inheritdoc/>
    public void Backward()
    {
        var dLogits = logitGradients ?? throw new InvalidOperationException("Backward was called before ForwardLoss.");
        var dHidden = Output.Backward(dLogits)!;
        Gru.Backward(dHidden);
        logitGradients = null;
    }

    /// <summary>
    /// Logits [T·B, V] for time-major inputs, optionally starting from and updating an h state;
    /// owned by the model until the next call.
    /// </summary>
    public Tensor Logits(IndexTensor inputs, int batch, bool training, long step, GruState? initialState, GruState? finalState)
    {
        int steps = (int)(inputs.Length / batch);
        var hidden = Gru.Forward(inputs, steps, batch, training, DropoutSeed, (ulong)step, initialState, finalState);
        return Output.Forward(hidden);
    }

    /// <summary>Frees the model's buffers and parameters.</summary>
    public void Dispose()
    {
        Gru.Dispose();
        Output.Dispose();
        losses.Dispose();
        Parameters.Dispose();
    }
}
