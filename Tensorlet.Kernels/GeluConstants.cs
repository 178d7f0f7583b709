namespace Tensorlet.Kernels;

/// <summary>The constants of GELU's two forms in float, shared by the CPU and ILGPU kernels (PyTorch's names in brackets).</summary>
internal static class GeluConstants
{
    /// <summary>1/√2 (M_SQRT1_2): Φ(x) = 0.5·(1 + erf(x/√2)).</summary>
    internal const float SqrtHalf = 0.707106781186547524f;

    /// <summary>1/√(2π) (kAlpha): Φ′(x) = e^(−x²/2)/√(2π).</summary>
    internal const float InverseSqrtTwoPi = 0.398942280401432678f;

    /// <summary>√(2/π) (kBeta), the tanh form's scale.</summary>
    internal const float SqrtTwoOverPi = 0.797884560802865356f;

    /// <summary>0.044715 (kKappa), the tanh form's cubic coefficient.</summary>
    internal const float Kappa = 0.044715f;

    /// <summary>
    /// The tanh form's backward clamps x to ±16. From |x| ≈ 10.6 on, e^(−2|u|) is 0 in float and the derivative is
    /// exactly 1 or 0 (it is σ(2u) there), so the clamp changes no result; it keeps x² finite, where 0·∞ would otherwise
    /// give NaN for |x| above 1.8e19.
    /// </summary>
    internal const float TanhFormClamp = 16f;
}
