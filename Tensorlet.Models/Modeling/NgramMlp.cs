using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The notebook's <c>ngram_mlp</c>: the previous n characters, taken as one n-gram token, go through
/// L1 (nn.Linear(ngramVocab, hidden) on one-hot input, done here as a gather), an activation, and L2
/// (nn.Linear(hidden, charVocab)) to next-character logits. Parameter names match its state_dict.
/// </summary>
public sealed class NgramMlp : ICharModel
{
    private readonly Workspace losses = new();
    private Tensor? hidden;
    private Tensor? logitGradients;

    /// <summary>Creates the model with PyTorch's default initialisation drawn from <paramref name="seed"/>.</summary>
    public NgramMlp(Device device, int ngramVocabularySize, int charVocabularySize, int hiddenSize, Activation activation, int seed)
    {
        ArgumentNullException.ThrowIfNull(device);
        Device = device;
        NgramVocabularySize = ngramVocabularySize;
        CharVocabularySize = charVocabularySize;
        HiddenSize = hiddenSize;
        Activation = activation;
        L1 = new OneHotLinear(Parameters, "L1", ngramVocabularySize, hiddenSize);
        L2 = new Linear(Parameters, "L2", hiddenSize, charVocabularySize);
        Parameters.Build(device, seed);
    }

    /// <inheritdoc/>
    public ModelKind Kind => ModelKind.Ngram;

    /// <inheritdoc/>
    public Device Device { get; }

    /// <inheritdoc/>
    public ParameterCollection Parameters { get; } = new();

    /// <inheritdoc/>
    public int CharVocabularySize { get; }

    /// <summary>The number of distinct n-grams (the one-hot width of L1).</summary>
    public int NgramVocabularySize { get; }

    /// <summary>The hidden width.</summary>
    public int HiddenSize { get; }

    /// <summary>The activation between L1 and L2.</summary>
    public Activation Activation { get; }

    /// <summary>L1: n-gram → hidden.</summary>
    public OneHotLinear L1 { get; }

    /// <summary>L2: hidden → characters.</summary>
    public Linear L2 { get; }

    /// <summary>Per-window losses; inputs are n-gram ids [N], targets character ids [N].</summary>
    public Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step)
    {
        var logits = Logits(inputs);
        var rowLosses = losses.Get(Device, logits.Rows, 1);
        Ops.SoftmaxCrossEntropy(logits, targets, rowLosses, logits, 1f / logits.Rows);
        logitGradients = logits;
        return rowLosses;
    }

    /// <inheritdoc/>
    public void Backward()
    {
        var dLogits = logitGradients ?? throw new InvalidOperationException("Backward was called before ForwardLoss.");
        var dHidden = L2.Backward(dLogits)!;
        Ops.ActivationBackward(Activation, hidden!, dHidden, dHidden);
        L1.Backward(dHidden);
        logitGradients = null;
    }

    /// <summary>Logits [N, V] for n-gram ids [N]; owned by the model until the next call.</summary>
    public Tensor Logits(IndexTensor inputs)
    {
        hidden = L1.Forward(inputs);
        Ops.ActivationForward(Activation, hidden, hidden);
        return L2.Forward(hidden);
    }

    /// <summary>Frees the model's buffers and parameters.</summary>
    public void Dispose()
    {
        L1.Dispose();
        L2.Dispose();
        losses.Dispose();
        Parameters.Dispose();
    }
}
