using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.L1Loss: the mean (or sum) of |prediction − target| over every element; the gradient is sign(prediction − target)/N
/// (or without /N), 0 where the two are equal, as PyTorch's.
/// </summary>
/// <param name="reduction">Mean (the default) or sum.</param>
public sealed class L1Loss(Reduction reduction = Reduction.Mean)
    : ElementwiseLoss("L1 loss", ElementwiseLossKind.L1, 0f, reduction);
