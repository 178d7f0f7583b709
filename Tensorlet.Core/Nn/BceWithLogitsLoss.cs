using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.BCEWithLogitsLoss: binary cross-entropy on logits x against targets y in [0, 1] (0/1 labels or probabilities),
/// per element −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))], the mean (or sum) over every element; the sigmoid is fused in,
/// for multi-label classification (one logit per label) and binary classification. Computed, as PyTorch's, without
/// overflow for every finite logit, as max(x, 0) − x·y + log1p(e^(−|x|)) (with a positive weight, its form for p); the
/// gradient is σ(x) − y (with a positive weight, (1 + (p − 1)·y)·σ(x) − p·y), over N for the mean.
/// </summary>
public sealed class BceWithLogitsLoss : ElementwiseLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">Mean (the default) or sum.</param>
    /// <param name="posWeight">
    /// PyTorch's pos_weight: the weight p of the positive term, one per class of the prediction's last dimension (C
    /// values for a prediction [..., C]) or one for every class ([1]), as it broadcasts in PyTorch, on the prediction's
    /// device; null for 1. The loss reads it at each Forward and does not own it: it must stay live while the loss is
    /// used. Another shape is refused at Forward, in one line.
    /// </param>
    public BceWithLogitsLoss(Reduction reduction = Reduction.Mean, Tensor? posWeight = null)
        : base("BCE-with-logits loss", ElementwiseLossKind.BceWithLogits, 0f, reduction, posWeight)
    {
        PosWeight = posWeight;
    }

    /// <summary>The weight of the positive term per class, or null.</summary>
    public Tensor? PosWeight { get; }
}
