using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>y = max(x, 0). Max keeps NaN, as torch.relu does.</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Max(x, TLanes.Create(0f));
}

/// <summary>
/// y = tanh(x) = sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|) (<see cref="FloatExp"/>), so exp never overflows.
/// Near 0 the subtraction 1 − e loses relative accuracy; the absolute error stays below about 2e-7.
/// </summary>
internal readonly struct TanhOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var e = TLanes.Exp(TLanes.Multiply(TLanes.Create(-2f), TLanes.Abs(x)));
        var one = TLanes.Create(1f);
        return TLanes.CopySign(TLanes.Divide(TLanes.Subtract(one, e), TLanes.Add(one, e)), x);
    }
}

/// <summary>y = 1/(1 + exp(−x)) (<see cref="FloatExp"/>); exp(−x) is +∞ for very negative x, which gives the right limit 0.</summary>
internal readonly struct SigmoidOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var one = TLanes.Create(1f);
        return TLanes.Divide(one, TLanes.Add(one, TLanes.Exp(TLanes.Subtract(TLanes.Create(0f), x))));
    }
}

/// <summary>
/// y = 0.5·x·(1 + erf(x/√2)), torch.nn.GELU(approximate='none'), with <see cref="FloatErf"/>. 0.5·x is taken first, so
/// y stays finite up to float's largest x; for very negative x, 1 + erf cancels to an absolute error near 6e-8·|x|/2.
/// </summary>
internal readonly struct GeluOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var erf = FloatErf.Evaluate<TLanes, TVector>(TLanes.Multiply(x, TLanes.Create(GeluConstants.SqrtHalf)));
        return TLanes.Multiply(TLanes.Multiply(TLanes.Create(0.5f), x), TLanes.Add(TLanes.Create(1f), erf));
    }
}

/// <summary>
/// y = x·σ(2u) with u = √(2/π)·(x + 0.044715·x³): torch.nn.GELU(approximate='tanh'), whose 0.5·x·(1 + tanh u) it is
/// exactly (0.5·(1 + tanh u) = σ(2u)), in a form that keeps its relative accuracy where tanh u nears −1 and
/// 1 + tanh u would cancel. Past |x| ≈ 7e12 x³ overflows to ±∞, where σ(2u) is 1 or 0 all the same.
/// </summary>
internal readonly struct GeluTanhOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Multiply(x, Cdf<TLanes, TVector>(x, TLanes.Multiply(x, x), out _, out _));

    /// <summary>
    /// σ(2u) = 0.5·(1 + tanh u), the tanh form's stand-in for Φ(x), from x and x² (x³ = x²·x, as PyTorch forms it), as
    /// (u &lt; 0 ? e : 1)/(1 + e) with <paramref name="e"/> = e^(−2|u|) (<see cref="FloatExp"/>): e is in [0, 1], so nothing
    /// overflows or cancels on either side. <paramref name="d"/> = 1 + e.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Cdf<TLanes, TVector>(TVector x, TVector x2, out TVector e, out TVector d)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var u = TLanes.Multiply(TLanes.Create(GeluConstants.SqrtTwoOverPi), TLanes.MultiplyAdd(TLanes.Create(GeluConstants.Kappa), TLanes.Multiply(x2, x), x));
        e = TLanes.Exp(TLanes.Multiply(TLanes.Create(-2f), TLanes.Abs(u)));
        d = TLanes.Add(TLanes.Create(1f), e);
        return TLanes.Divide(TLanes.WhereLess(u, TLanes.Create(0f), e, TLanes.Create(1f)), d);
    }
}

/// <summary>
/// y = x·σ(x), torch.nn.SiLU, with σ(x) = (x &lt; 0 ? e : 1)/(1 + e) and e = e^(−|x|) (<see cref="FloatExp"/>): e is in
/// [0, 1], so nothing overflows, and σ keeps its relative accuracy for very negative x. As PyTorch's x/(1 + e^(−x)),
/// +∞ gives +∞ and −∞ or NaN give NaN (−∞·0).
/// </summary>
internal readonly struct SiluOperator : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Multiply(x, Sigmoid<TLanes, TVector>(x, out _, out _));

    /// <summary>σ(x) as (x &lt; 0 ? e : 1)/d, with <paramref name="e"/> = e^(−|x|) and <paramref name="d"/> = 1 + e.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Sigmoid<TLanes, TVector>(TVector x, out TVector e, out TVector d)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        e = TLanes.Exp(TLanes.Subtract(TLanes.Create(0f), TLanes.Abs(x)));
        d = TLanes.Add(TLanes.Create(1f), e);
        return TLanes.Divide(TLanes.WhereLess(x, TLanes.Create(0f), e, TLanes.Create(1f)), d);
    }
}

/// <summary>
/// y = x for x &gt; 0, else negativeSlope·x: torch.nn.LeakyReLU, comparison and product as PyTorch's (a NaN x gives NaN;
/// at ±0 the product, so an infinite slope gives NaN there as in PyTorch).
/// </summary>
internal readonly struct LeakyReluOperator(float negativeSlope) : IUnaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
        => TLanes.WhereLess(TLanes.Create(0f), x, x, TLanes.Multiply(TLanes.Create(negativeSlope), x));
}

/// <summary>dx = dy where y &gt; 0, else 0. Invoke(y, dy).</summary>
internal readonly struct ReluBackwardOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector y, TVector dy)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.WherePositive(y, dy);
}

/// <summary>dx = dy·(1 − y²). Invoke(y, dy).</summary>
internal readonly struct TanhBackwardOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector y, TVector dy)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Multiply(dy, TLanes.Subtract(TLanes.Create(1f), TLanes.Multiply(y, y)));
}

/// <summary>dx = dy·y·(1 − y). Invoke(y, dy).</summary>
internal readonly struct SigmoidBackwardOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector y, TVector dy)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct => TLanes.Multiply(dy, TLanes.Multiply(y, TLanes.Subtract(TLanes.Create(1f), y)));
}

/// <summary>
/// dx = dy·(Φ(x) + x·Φ′(x)), Φ(x) = 0.5·(1 + erf(x/√2)), Φ′(x) = e^(−x²/2)/√(2π): GELU's derivative, as PyTorch
/// writes it. Invoke(x, dy). Beyond |x| ≈ 14.4 the exp is 0 and dx is dy·Φ(x) (x² overflowing to ∞ gives 0 too).
/// </summary>
internal readonly struct GeluBackwardOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector dy)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var half = TLanes.Create(0.5f);
        var erf = FloatErf.Evaluate<TLanes, TVector>(TLanes.Multiply(x, TLanes.Create(GeluConstants.SqrtHalf)));
        var cdf = TLanes.Multiply(half, TLanes.Add(TLanes.Create(1f), erf));
        var pdf = TLanes.Multiply(TLanes.Exp(TLanes.Multiply(TLanes.Create(-0.5f), TLanes.Multiply(x, x))), TLanes.Create(GeluConstants.InverseSqrtTwoPi));
        return TLanes.Multiply(dy, TLanes.MultiplyAdd(x, pdf, cdf));
    }
}

/// <summary>
/// dx = dy·(s + x·s·(1 − s)·2u′), the derivative of x·s with s = σ(2u) (<see cref="GeluTanhOperator"/>), which is
/// PyTorch's 0.5·(1 + t) + 0.5·x·(1 − t²)·u′ with t = tanh u; u′ = √(2/π)·(1 + 3·0.044715·x²) and s·(1 − s) = e/(1 + e)²
/// with e = e^(−2|u|), which keeps its relative accuracy where t nears ±1. Invoke(x, dy). x is first clamped to
/// ±<see cref="GeluConstants.TanhFormClamp"/>, which changes no finite result and keeps x² finite; x − x (0, or NaN
/// for an infinite or NaN x) is added back, so ±∞ gives NaN as the exact form's derivative and PyTorch's do. A finite
/// |x| above about 1.8e19 keeps its true derivative (1 or 0), where PyTorch's float32 x³ overflows to NaN.
/// </summary>
internal readonly struct GeluTanhBackwardOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector dy)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var nanIfNotFinite = TLanes.Subtract(x, x);
        x = TLanes.Clamp(x, TLanes.Create(-GeluConstants.TanhFormClamp), TLanes.Create(GeluConstants.TanhFormClamp));
        var x2 = TLanes.Multiply(x, x);
        var s = GeluTanhOperator.Cdf<TLanes, TVector>(x, x2, out var e, out var d);
        var twoDu = TLanes.Multiply(TLanes.Create(2f * GeluConstants.SqrtTwoOverPi), TLanes.MultiplyAdd(TLanes.Create(3f * GeluConstants.Kappa), x2, TLanes.Create(1f)));
        var ds = TLanes.Multiply(TLanes.Multiply(x, TLanes.Divide(e, TLanes.Multiply(d, d))), twoDu);
        return TLanes.Multiply(dy, TLanes.Add(TLanes.Add(s, ds), nanIfNotFinite));
    }
}

/// <summary>
/// dx = dy·(σ + x·σ·(1 − σ)), SiLU's derivative σ(x)·(1 + x·(1 − σ(x))), with σ·(1 − σ) = e/(1 + e)² and e = e^(−|x|)
/// (<see cref="SiluOperator.Sigmoid"/>): nothing overflows, and σ·(1 − σ) keeps its relative accuracy for large |x|,
/// where 1 − σ from a rounded σ would be 0. Invoke(x, dy). ±∞ and NaN give NaN (∞·0), as PyTorch's.
/// </summary>
internal readonly struct SiluBackwardOperator : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector dy)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var s = SiluOperator.Sigmoid<TLanes, TVector>(x, out var e, out var d);
        return TLanes.Multiply(dy, TLanes.MultiplyAdd(x, TLanes.Divide(e, TLanes.Multiply(d, d)), s));
    }
}

/// <summary>dx = dy where x &gt; 0, else negativeSlope·dy (at x = 0 too, and for NaN x, as PyTorch). Invoke(x, dy).</summary>
internal readonly struct LeakyReluBackwardOperator(float negativeSlope) : IBinaryOperator
{
    public TVector Invoke<TLanes, TVector>(TVector x, TVector dy)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
        => TLanes.WhereLess(TLanes.Create(0f), x, dy, TLanes.Multiply(TLanes.Create(negativeSlope), dy));
}
