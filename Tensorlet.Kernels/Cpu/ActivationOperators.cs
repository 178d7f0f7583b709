using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>y = max(x, 0). Max keeps NaN, as torch.relu does.</summary>
internal readonly struct ReluOperator : IUnaryOperator
{
    public float Invoke(float x) => Math.Max(x, 0f);

    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero);

    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
}

/// <summary>
/// y = tanh(x) = sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|) (<see cref="FloatExp"/>), so exp never overflows.
/// Near 0 the subtraction 1 − e loses relative accuracy; the absolute error stays below about 2e-7.
/// </summary>
internal readonly struct TanhOperator : IUnaryOperator
{
    public float Invoke(float x)
    {
        float e = FloatLanes1.Exp(-2f * Math.Abs(x));
        return MathF.CopySign((1f - e) / (1f + e), x);
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        var e = FloatLanes256.Exp(Vector256.Create(-2f) * Vector256.Abs(x));
        var one = Vector256<float>.One;
        return Vector256.CopySign((one - e) / (one + e), x);
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        var e = FloatLanes512.Exp(Vector512.Create(-2f) * Vector512.Abs(x));
        var one = Vector512<float>.One;
        return Vector512.CopySign((one - e) / (one + e), x);
    }
}

/// <summary>y = 1/(1 + exp(−x)) (<see cref="FloatExp"/>); exp(−x) is +∞ for very negative x, which gives the right limit 0.</summary>
internal readonly struct SigmoidOperator : IUnaryOperator
{
    public float Invoke(float x) => 1f / (1f + FloatLanes1.Exp(-x));

    public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + FloatLanes256.Exp(-x));

    public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + FloatLanes512.Exp(-x));
}

/// <summary>dx = dy where y &gt; 0, else 0. Invoke(y, dy).</summary>
internal readonly struct ReluBackwardOperator : IBinaryOperator
{
    public float Invoke(float y, float dy) => y > 0f ? dy : 0f;

    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => Vector256.GreaterThan(y, Vector256<float>.Zero) & dy;

    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => Vector512.GreaterThan(y, Vector512<float>.Zero) & dy;
}

/// <summary>dx = dy·(1 − y²). Invoke(y, dy).</summary>
internal readonly struct TanhBackwardOperator : IBinaryOperator
{
    public float Invoke(float y, float dy) => dy * (1f - (y * y));

    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (Vector256<float>.One - (y * y));

    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (Vector512<float>.One - (y * y));
}

/// <summary>dx = dy·y·(1 − y). Invoke(y, dy).</summary>
internal readonly struct SigmoidBackwardOperator : IBinaryOperator
{
    public float Invoke(float y, float dy) => dy * (y * (1f - y));

    public Vector256<float> Invoke(Vector256<float> y, Vector256<float> dy) => dy * (y * (Vector256<float>.One - y));

    public Vector512<float> Invoke(Vector512<float> y, Vector512<float> dy) => dy * (y * (Vector512<float>.One - y));
}
