using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.SmoothL1Loss: per element, with d = prediction − target, 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β; the mean
/// (or sum) over every element. The gradient is d/β within (−β, β) and ±1 outside, as PyTorch's; β = 0 is
/// <see cref="L1Loss"/>, but for the gradient at d = 0, which is −1 there as in PyTorch.
/// </summary>
public sealed class SmoothL1Loss : ElementwiseLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">Mean (the default) or sum.</param>
    /// <param name="beta">Where the quadratic part ends, a finite β ≥ 0; PyTorch's default is 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="beta"/> is negative, NaN or infinite.</exception>
    public SmoothL1Loss(Reduction reduction = Reduction.Mean, float beta = 1f)
        : base("Smooth L1 loss", ElementwiseLossKind.SmoothL1, beta >= 0f && float.IsFinite(beta) ? beta : throw new ArgumentOutOfRangeException(nameof(beta), $"SmoothL1Loss needs a finite beta ≥ 0; got {beta}."), reduction)
    {
        Beta = beta;
    }

    /// <summary>β, where the quadratic part ends.</summary>
    public float Beta { get; }
}
