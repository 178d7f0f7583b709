using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>nn.MSELoss: d², d = x − y; gradient d, whose factor 2 the caller puts into the scale (<see cref="ElementwiseLossKind.Mse"/>).</summary>
internal readonly struct MseLossOperator : IElementwiseLossOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y, TVector weight, out TVector gradient)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var d = TLanes.Subtract(x, y);
        gradient = d;
        return TLanes.Multiply(d, d);
    }
}

/// <summary>nn.L1Loss: |d|, d = x − y; gradient sign(d), 0 where d is 0 or NaN (as PyTorch's backward).</summary>
internal readonly struct L1LossOperator : IElementwiseLossOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y, TVector weight, out TVector gradient)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var d = TLanes.Subtract(x, y);
        var z = TLanes.Abs(d);
        gradient = TLanes.WherePositive(z, TLanes.CopySign(TLanes.Create(1f), d));
        return z;
    }
}

/// <summary>
/// nn.SmoothL1Loss(beta): 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β. Gradient as PyTorch's backward: −1 where
/// d ≤ −β, else d/β limited to [−1, 1]; so β = 0 is L1 but for its gradient at d = 0, −1 as in PyTorch. NaN gives NaN.
/// </summary>
internal readonly struct SmoothL1LossOperator(float beta) : IElementwiseLossOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y, TVector weight, out TVector gradient)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var b = TLanes.Create(beta);
        var one = TLanes.Create(1f);
        var d = TLanes.Subtract(x, y);
        var z = TLanes.Abs(d);
        var slope = TLanes.Clamp(TLanes.Divide(d, b), TLanes.Create(-1f), one);
        gradient = TLanes.WhereGreaterOrNaN(d, TLanes.Create(-beta), slope, TLanes.Create(-1f));
        var quadratic = TLanes.Divide(TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5f), d), d), b);
        return TLanes.WhereLess(z, b, quadratic, TLanes.Subtract(z, TLanes.Create(0.5f * beta)));
    }
}

/// <summary>nn.HuberLoss(delta): 0.5·d² where |d| &lt; δ, else δ·(|d| − 0.5·δ); gradient d limited to [−δ, δ] (NaN stays NaN).</summary>
internal readonly struct HuberLossOperator(float delta) : IElementwiseLossOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y, TVector weight, out TVector gradient)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var limit = TLanes.Create(delta);
        var d = TLanes.Subtract(x, y);
        var z = TLanes.Abs(d);
        gradient = TLanes.Clamp(d, TLanes.Create(-delta), limit);
        var quadratic = TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5f), d), d);
        return TLanes.WhereLess(z, limit, quadratic, TLanes.Multiply(limit, TLanes.Subtract(z, TLanes.Create(0.5f * delta))));
    }
}

/// <summary>
/// nn.BCEWithLogitsLoss with positive weight p: PyTorch's (1 − y)·x + w·softplus(−x), w = 1 + (p − 1)·y, written as
/// (x ≥ 0 ? (1 − y)·x : −p·y·x) + w·log1p(e^(−|x|)), which with p = 1 is max(x, 0) − x·y + log1p(e^(−|x|)): nothing
/// overflows for any finite x, and the two terms never cancel (both are ≥ 0 for y in [0, 1]), so a confident, right
/// logit keeps its tiny loss where PyTorch's −x + (−x) + … rounds it to 0. Gradient w·σ(x) − p·y, PyTorch's (σ(x) − y
/// without a positive weight, where w is taken as 1 rather than computed, so an infinite target gives PyTorch's ±∞,
/// not 0·∞, while with one it gives PyTorch's NaN); σ as <see cref="SiluOperator.Sigmoid"/>.
/// </summary>
internal readonly struct BceWithLogitsLossOperator(bool weighted) : IElementwiseLossOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector y, TVector weight, out TVector gradient)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        var sigmoid = SiluOperator.Sigmoid<TLanes, TVector>(x, out var e, out var d);
        var w = weighted ? TLanes.MultiplyAdd(TLanes.Subtract(weight, one), y, one) : one;
        gradient = TLanes.Subtract(TLanes.Multiply(w, sigmoid), TLanes.Multiply(weight, y));
        var linear = TLanes.WhereLess(x, TLanes.Create(0f), TLanes.Multiply(TLanes.Subtract(TLanes.Create(0f), TLanes.Multiply(weight, y)), x), TLanes.Multiply(TLanes.Subtract(one, y), x));
        return TLanes.MultiplyAdd(w, Log1p<TLanes, TVector>(e, d), linear);
    }

    /// <summary>
    /// log(1 + e) for e in [0, 1], from <paramref name="onePlusE"/> = 1 + e rounded: log(u)·e/(u − 1) (Goldberg's
    /// correction), exactly e where u rounds to 1, so a tiny e keeps its relative accuracy where log(u) alone would be 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Log1p<TLanes, TVector>(TVector e, TVector onePlusE)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        var corrected = TLanes.Divide(TLanes.Multiply(TLanes.Log(onePlusE), e), TLanes.Subtract(onePlusE, one));
        return TLanes.WhereSameBits(onePlusE, one, e, corrected);
    }
}
