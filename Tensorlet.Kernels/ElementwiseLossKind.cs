namespace Tensorlet.Kernels;

/// <summary>
/// The losses of the fused elementwise-loss kernels: each writes the gradient of every element and returns the sum of
/// the per-element losses ℓ(x, y) of a prediction x against a target y, with PyTorch's formulas (d = x − y).
/// </summary>
internal enum ElementwiseLossKind
{
    /// <summary>
    /// nn.MSELoss: d²; the kernels write gradScale·d, and the caller passes twice the reduction's scale, so the gradient is
    /// (2/n)·d as PyTorch's, finite where 2d would overflow.
    /// </summary>
    Mse,

    /// <summary>nn.L1Loss: |d|; gradient sign(d), 0 where d is 0 or NaN.</summary>
    L1,

    /// <summary>
    /// nn.SmoothL1Loss(beta): 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β; gradient −1 where d ≤ −β, else d/β limited
    /// to [−1, 1] (so −1 at d = 0 when β = 0, as PyTorch's backward).
    /// </summary>
    SmoothL1,

    /// <summary>nn.HuberLoss(delta): 0.5·d² where |d| &lt; δ, else δ·(|d| − 0.5·δ); gradient d limited to [−δ, δ].</summary>
    Huber,

    /// <summary>
    /// nn.BCEWithLogitsLoss(pos_weight): −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))], computed as
    /// (x ≥ 0 ? (1 − y)·x : −p·y·x) + w·log1p(e^(−|x|)) with w = 1 + (p − 1)·y; gradient w·σ(x) − p·y (σ(x) − y when
    /// p = 1), p the positive weight of the element's column; without one, w = 1 and p = 1.
    /// </summary>
    BceWithLogits,
}
