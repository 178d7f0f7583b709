using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// nn.HuberLoss: per element, with d = prediction − target, 0.5·d² where |d| &lt; δ, else δ·(|d| − 0.5·δ); the mean
/// (or sum) over every element. The gradient is d limited to [−δ, δ], as PyTorch's. It is δ times
/// <see cref="SmoothL1Loss"/> with β = δ.
/// </summary>
public sealed class HuberLoss : ElementwiseLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">Mean (the default) or sum.</param>
    /// <param name="delta">Where the quadratic part ends, a finite δ &gt; 0; PyTorch's default is 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delta"/> is not positive, NaN or infinite.</exception>
    public HuberLoss(Reduction reduction = Reduction.Mean, float delta = 1f)
        : base("Huber loss", ElementwiseLossKind.Huber, delta > 0f && float.IsFinite(delta) ? delta : throw new ArgumentOutOfRangeException(nameof(delta), $"HuberLoss needs a finite delta > 0; got {delta}."), reduction)
    {
        Delta = delta;
    }

    /// <summary>δ, where the quadratic part ends.</summary>
    public float Delta { get; }
}
