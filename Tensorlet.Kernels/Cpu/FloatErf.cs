using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// erf(x) in float, written once for every lane width, for the GELU kernels (.NET has no MathF.Erf, and ILGPU's
/// <c>KernelMath.Erf</c> runs these same coefficients). Two pieces, split at |x| = <see cref="Split"/>:
/// below it erf(x) = x + x·S(x²), a degree-5 polynomial in x², accurate relative to erf however small x is; from it
/// erf(|x|) = 1 − e^L(|x| − Split), a degree-6 polynomial L in place of ln erfc, with the sign of x. Both pieces are
/// computed and each lane takes its own, so there is no branch.
/// Within 1.25 ulp and 7.5e-8 absolute of the float64 erf over ±10, with or without fused multiply-adds (ErfTests
/// measures 1.07 ulp with them, 1.23 without, both just below the split); ±1 beyond <see cref="Saturation"/>, −0 for
/// −0, NaN for NaN.
/// scripts/fit_erf.py fitted the coefficients (minimax, in float64).
/// </summary>
internal static class FloatErf
{
    // Exact in binary, so |x| − Split is exact in float.
    internal const float Split = 0.875f;

    // From here on erfc(x) < 1.6e-8 and erf(x) rounds to 1 in float; L is fitted up to here, so |x| is clamped to it.
    internal const float Saturation = 4f;

    // erf(x) = x + x·(S0 + S1·x² + … + S5·x¹⁰) for |x| < Split: minimax relative error 8.5e-9 before rounding.
    internal const float S0 = 1.283791512e-01f;
    internal const float S1 = -3.761255145e-01f;
    internal const float S2 = 1.128245518e-01f;
    internal const float S3 = -2.679145895e-02f;
    internal const float S4 = 5.032175686e-03f;
    internal const float S5 = -6.203223020e-04f;

    // erf(|x|) = 1 − exp(L0 + L1·r + … + L6·r⁶) with r = min(|x|, Saturation) − Split: minimax absolute error of erf 1.8e-9 before rounding.
    internal const float L0 = -1.532824397e+00f;
    internal const float L1 = -2.430218935e+00f;
    internal const float L2 = -8.265538812e-01f;
    internal const float L3 = -4.683476686e-02f;
    internal const float L4 = 1.119304821e-02f;
    internal const float L5 = -2.032518620e-03f;
    internal const float L6 = 1.999024680e-04f;

    /// <summary>erf(x), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Evaluate<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var t = TLanes.Abs(x);

        var x2 = TLanes.Multiply(x, x);
        var s = TLanes.Create(S5);
        s = TLanes.MultiplyAdd(s, x2, TLanes.Create(S4));
        s = TLanes.MultiplyAdd(s, x2, TLanes.Create(S3));
        s = TLanes.MultiplyAdd(s, x2, TLanes.Create(S2));
        s = TLanes.MultiplyAdd(s, x2, TLanes.Create(S1));
        s = TLanes.MultiplyAdd(s, x2, TLanes.Create(S0));
        var small = TLanes.MultiplyAdd(s, x, x);

        var r = TLanes.Subtract(TLanes.Min(t, TLanes.Create(Saturation)), TLanes.Create(Split));
        var l = TLanes.Create(L6);
        l = TLanes.MultiplyAdd(l, r, TLanes.Create(L5));
        l = TLanes.MultiplyAdd(l, r, TLanes.Create(L4));
        l = TLanes.MultiplyAdd(l, r, TLanes.Create(L3));
        l = TLanes.MultiplyAdd(l, r, TLanes.Create(L2));
        l = TLanes.MultiplyAdd(l, r, TLanes.Create(L1));
        l = TLanes.MultiplyAdd(l, r, TLanes.Create(L0));
        var large = TLanes.CopySign(TLanes.Subtract(TLanes.Create(1f), TLanes.Exp(l)), x);

        return TLanes.WhereLess(t, TLanes.Create(Split), small, large);
    }
}
