namespace Tensorlet.Nn;

/// <summary>
/// nn.CrossEntropyLoss on logits [..., C] (the last dimension holds the classes) and class indices [...], through the
/// fused softmax + cross-entropy kernel; losses are in nats. Targets equal to <see cref="ClassIdLoss.IgnoreIndex"/> add
/// nothing to the loss or the gradient, and the mean is over the others, as in PyTorch; as there, an ignored row's
/// gradient is 0 − softmax·0, NaN where one of its logits is NaN or +∞.
/// </summary>
/// <param name="reduction">Mean (the default) or sum over the targets.</param>
/// <param name="ignoreIndex">A target value that is skipped; PyTorch's default is −100.</param>
public sealed class CrossEntropyLoss(Reduction reduction = Reduction.Mean, int ignoreIndex = -100)
    : ClassIdLoss("Cross-entropy", "logits", reduction, ignoreIndex, Ops.SoftmaxCrossEntropy);
