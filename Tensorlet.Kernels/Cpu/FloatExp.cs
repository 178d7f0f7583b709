using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// e^x in float, written once for every lane width: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by Cephes' degree-6
/// minimax polynomial, then scaled by 2^n. Measured within 1.25 ulp of the float64 exp over the normal range
/// (FloatExpTests), exactly 0 below about −103.97, +∞ above about 88.72, NaN for NaN.
/// <para>
/// Why not .NET's Vector512.Exp: for float it widens each half to double and evaluates there, 30–90 cycles per
/// 16 lanes on the 2-core machine against about 10 here, and the LSTM cell's five exps per element made it most
/// of the cell's time. Every width (and the scalar tail) runs this same sequence of roundings, so an element's
/// result does not depend on where in a row it falls.
/// </para>
/// </summary>
internal static class FloatExp
{
    // Beyond these e^x is 0 or +∞ in float; clamping first keeps n and r finite, so the polynomial never sees ±∞.
    private const float Lowest = -104f;
    private const float Highest = 89f;

    private const float Log2E = 1.44269504088896341f;

    // ln 2 split so that n·Ln2High is exact for every n the clamp allows (Ln2High has 9 significant bits).
    private const float Ln2High = 0.693359375f;
    private const float Ln2Low = -2.12194440e-4f;

    /// <summary>e^x, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Evaluate<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        x = TLanes.Min(TLanes.Max(x, TLanes.Create(Lowest)), TLanes.Create(Highest));
        var n = TLanes.RoundToEven(TLanes.Multiply(x, TLanes.Create(Log2E)));
        var r = TLanes.MultiplyAdd(n, TLanes.Create(-Ln2High), x);
        r = TLanes.MultiplyAdd(n, TLanes.Create(-Ln2Low), r);
        var p = TLanes.Create(1.9875691500e-4f);
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(1.3981999507e-3f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(8.3334519073e-3f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(4.1665795894e-2f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(1.6666665459e-1f));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(5.0000001201e-1f));
        p = TLanes.MultiplyAdd(p, TLanes.Multiply(r, r), TLanes.Add(r, TLanes.Create(1f)));
        return TLanes.ScaleByPowerOfTwo(p, n);
    }
}
