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
