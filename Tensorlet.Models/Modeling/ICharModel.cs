using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// A character-level language model that Tensorlet's trainer, evaluator and sampler drive.
/// Each target row's loss comes out of one fused softmax + cross-entropy kernel.
/// </summary>
public interface ICharModel : IDisposable
{
    /// <summary>The model family.</summary>
    ModelKind Kind { get; }

    /// <summary>The device the model runs on.</summary>
    Device Device { get; }

    /// <summary>Every trainable parameter, under its PyTorch state_dict name.</summary>
    ParameterCollection Parameters { get; }

    /// <summary>The number of output characters.</summary>
    int CharVocabularySize { get; }

    /// <summary>
    /// Runs the model on a batch and computes, per target row, the cross-entropy in nats; keeps what
    /// <see cref="Backward"/> needs. The gradient is that of the mean over all rows, as nn.CrossEntropyLoss.
    /// </summary>
    /// <param name="inputs">Model inputs; their layout is the model's (see each model).</param>
    /// <param name="targets">Target character ids, one per output row.</param>
    /// <param name="batch">The number of sequences (LSTM) or windows (n-gram) in the batch.</param>
    /// <param name="training">Training mode (dropout on).</param>
    /// <param name="step">The optimizer step, which keys the dropout masks.</param>
    /// <returns>Per-row losses [rows], owned by the model until the next call.</returns>
    /// <exception cref="ArgumentException">The targets are on another device than the model, or not one per input; refused
    /// before the model runs, so the last ForwardLoss is still ready for <see cref="Backward"/>.</exception>
    /// <exception cref="ObjectDisposedException">The model or the targets are disposed.</exception>
    Tensor ForwardLoss(IndexTensor inputs, IndexTensor targets, int batch, bool training, long step);

    /// <summary>Accumulates the parameter gradients of the last <see cref="ForwardLoss"/>'s mean loss.</summary>
    void Backward();
}
