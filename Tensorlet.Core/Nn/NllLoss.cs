namespace Tensorlet.Nn;

/// <summary>
/// nn.NLLLoss on log-probabilities [..., C] (the last dimension holds the classes, as a <see cref="LogSoftmax"/> gives
/// them) and class indices [...]: each row's loss is minus its target's log-probability. Targets equal to
/// <see cref="ClassIdLoss.IgnoreIndex"/> add nothing to the loss or the gradient, whatever their row holds (−∞ or NaN
/// included), and the mean is over the others, as in PyTorch. <c>Sequential(..., LogSoftmax)</c> trained with this loss computes what the same model without the
/// LogSoftmax computes with <see cref="CrossEntropyLoss"/>, which is one fused kernel and the faster of the two.
/// </summary>
/// <param name="reduction">Mean (the default) or sum over the targets.</param>
/// <param name="ignoreIndex">A target value that is skipped; PyTorch's default is −100.</param>
public sealed class NllLoss(Reduction reduction = Reduction.Mean, int ignoreIndex = -100)
    : ClassIdLoss("NLL loss", "log-probabilities", reduction, ignoreIndex, Ops.NllLoss);
