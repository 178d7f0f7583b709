using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The notebook's <c>lstm_char_predict</c> with nn.RNN (tanh, the Elman RNN) in nn.LSTM's place: nn.RNN(vocab, hidden,
/// layers, dropout=dropout) on one-hot characters, then the Linear head <c>output</c> on every step, a
/// <see cref="Sequential"/> of the library's <see cref="Nn.Rnn"/> and <see cref="Linear"/>. Parameter names match that
/// module's state_dict (<c>rnn.weight_ih_l0</c> … <c>output.bias</c>).
/// </summary>
public sealed class ElmanCharModel : RnnCharModel
{
    /// <summary>Creates the model on <paramref name="device"/> with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public ElmanCharModel(Device device, int charVocabularySize, int hiddenSize, int numLayers, float dropout, int seed)
        : base(device, "rnn", new Nn.Rnn(charVocabularySize, hiddenSize, numLayers, RnnNonlinearity.Tanh, dropout), charVocabularySize, seed)
    {
    }

    /// <inheritdoc/>
    public override ModelKind Kind => ModelKind.Rnn;

    /// <summary>The RNN.</summary>
    public Nn.Rnn Rnn => (Nn.Rnn)this[0];

    /// <summary>
    /// Logits [T·B, V] for time-major inputs, optionally starting from and updating an h state;
    /// owned by the model until the next call.
    /// </summary>
    /// <exception cref="ArgumentException">The inputs are on another device than the model; refused before the mode, the
    /// dropout key or the initial state change.</exception>
    /// <exception cref="ObjectDisposedException">The model or the inputs are disposed.</exception>
    public Tensor Logits(IndexTensor inputs, int batch, bool training, long step, RnnHiddenState? initialState, RnnHiddenState? finalState)
        => base.Logits(inputs, batch, training, step, initialState, finalState);
}
