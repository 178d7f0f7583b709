using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>nn.MSELoss: the mean (or sum) of (prediction − target)² over every element; the gradient is 2(prediction − target)/N (or without /N).</summary>
public sealed class MseLoss : ElementwiseLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">Mean (the default) or sum.</param>
    public MseLoss(Reduction reduction = Reduction.Mean)
        : base("MSE", ElementwiseLossKind.Mse, 0f, reduction)
    {
    }
}
