using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The notebook's <c>ngram_mlp</c>: the previous n characters, taken as one n-gram token, go through L1
/// (nn.Linear(ngramVocab, hidden) on one-hot input, a gather), an activation, and L2 (nn.Linear(hidden, charVocab))
/// to next-character logits, composed as a <see cref="Sequential"/> of library modules. Parameter names match its state_dict.
/// </summary>
public sealed class NgramMlp : Sequential, ICharModel
{
    private readonly CrossEntropyLoss loss = new();

    /// <summary>Creates the model with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public NgramMlp(Device device, int ngramVocabularySize, int charVocabularySize, int hiddenSize, Activation activation, int seed)
        : base(("L1", new Linear(ngramVocabularySize, hiddenSize)), ("activation", ActivationModule.Create(activation)), ("L2", new Linear(hiddenSize, charVocabularySize)))
    {
        ArgumentNullException.ThrowIfNull(device);
        NgramVocabularySize = ngramVocabularySize;
        CharVocabularySize = charVocabularySize;
        HiddenSize = hiddenSize;
        Activation = activation;
        Build(device, seed);
    }

    /// <inheritdoc/>
    public ModelKind Kind => ModelKind.Ngram;

    /// <inheritdoc/>
    public int CharVocabularySize { get; }

    /// <summary>The number of distinct n-grams (the one-hot width of L1).</summary>
    public int NgramVocabularySize { get; }

    /// <summary>The hidden width.</summary>
    public int HiddenSize { get; }

    /// <summary>The activation between L1 and L2.</summary>
    public Activation Activation { get; }

    /// <summary>L1: n-gram → hidden, on one-hot input.</summary>
    public Linear L1 => (Linear)this[0];

    /// <summary>L2: hidden → characters.</summary>
    public Linear L2 => (Linear)this[2];

    /// <summary>Per-window losses; inputs are n-gram ids [N], targets character ids [N].</summary>
    public Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step)
    {
        ThrowIfModuleDisposed();
        CharModelTargets.ThrowUnlessFit(this, inputs, targets);

        // Before the mode changes: nothing restores it when Forward throws.
        CheckInputDevice(inputs);
        Train(training);
        return loss.ForwardRows(Logits(inputs), targets);
    }

    /// <inheritdoc/>
    public void Backward() => Backward(loss.Backward(), computeInputGradient: false);

    /// <summary>Logits [N, V] for n-gram ids [N]; owned by the model until the next call.</summary>
    public Tensor Logits(IndexTensor inputs) => Forward(inputs);

    /// <inheritdoc/>
    protected override void DisposeBuffers() => loss.Dispose();
}
