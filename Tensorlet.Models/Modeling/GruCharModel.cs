using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The notebook's <c>lstm_char_predict</c> with nn.GRU in nn.LSTM's place: nn.GRU(vocab, hidden, layers, dropout) on
/// one-hot characters, then the Linear head <c>output</c> on every step, a <see cref="Sequential"/> of the library's
/// <see cref="Nn.Gru"/> and <see cref="Linear"/>. Parameter names match that module's state_dict
/// (<c>gru.weight_ih_l0</c> … <c>output.bias</c>).
/// </summary>
public sealed class GruCharModel : RnnCharModel
{
    /// <summary>Creates the model on <paramref name="device"/> with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public GruCharModel(Device device, int charVocabularySize, int hiddenSize, int numLayers, float dropout, int seed)
        : base(device, "gru", new Nn.Gru(charVocabularySize, hiddenSize, numLayers, dropout), charVocabularySize, seed)
    {
    }

    /// <inheritdoc/>
    public override ModelKind Kind => ModelKind.Gru;

    /// <summary>The GRU.</summary>
    public Nn.Gru Gru => (Nn.Gru)this[0];

    /// <summary>
    /// Logits [T·B, V] for time-major inputs, optionally starting from and updating an h state;
    /// owned by the model until the next call.
    /// </summary>
    /// <exception cref="ArgumentException">The inputs are on another device than the model; refused before the mode, the
    /// dropout key or the initial state change.</exception>
    /// <exception cref="ObjectDisposedException">The model or the inputs are disposed.</exception>
    public Tensor Logits(IndexTensor inputs, int batch, bool training, long step, GruState? initialState, GruState? finalState)
        => base.Logits(inputs, batch, training, step, initialState, finalState);
}
