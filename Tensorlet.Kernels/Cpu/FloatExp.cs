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
    internal const float Lowest = -104f;
    internal const float Highest = 89f;

    internal const float Log2E = 1.44269504088896341f;

    // ln 2 split so that n·Ln2High is exact for every n the clamp allows (Ln2High has 9 significant bits).
    internal const float Ln2High = 0.693359375f;
    internal const float Ln2Low = -2.12194440e-4f;

    // Cephes' coefficients: e^r ≈ 1 + r + r²·(P5 + r·(P4 + r·(P3 + r·(P2 + r·(P1 + r·P0))))).
    internal const float P0 = 1.9875691500e-4f;
    internal const float P1 = 1.3981999507e-3f;
    internal const float P2 = 8.3334519073e-3f;
    internal const float P3 = 4.1665795894e-2f;
    internal const float P4 = 1.6666665459e-1f;
    internal const float P5 = 5.0000001201e-1f;

    /// <summary>e^x, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Evaluate<TLanes, TVector>(TVector x)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        x = TLanes.Clamp(x, TLanes.Create(Lowest), TLanes.Create(Highest));
        var n = TLanes.RoundToEven(TLanes.Multiply(x, TLanes.Create(Log2E)));
        var r = TLanes.MultiplyAdd(n, TLanes.Create(-Ln2High), x);
        r = TLanes.MultiplyAdd(n, TLanes.Create(-Ln2Low), r);
        var p = TLanes.Create(P0);
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P1));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P2));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P3));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P4));
        p = TLanes.MultiplyAdd(p, r, TLanes.Create(P5));
        p = TLanes.MultiplyAdd(p, TLanes.Multiply(r, r), TLanes.Add(r, TLanes.Create(1f)));
        return TLanes.ScaleByPowerOfTwo(p, n);
    }

    /// <summary>
    /// e^a and e^b: <see cref="Evaluate"/>'s sequence with each operation done for both registers before the next. One exp
    /// is a chain of about fifteen dependent operations and the JIT emits them in source order; two chains side by side
    /// keep an out-of-order core's pipes busy where one would leave them waiting on latency. Every float is the one
    /// <see cref="Evaluate"/> gives.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void EvaluatePair<TLanes, TVector>(ref TVector a, ref TVector b)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        var lowest = TLanes.Create(Lowest);
        var highest = TLanes.Create(Highest);
        var log2E = TLanes.Create(Log2E);
        TVector xa = TLanes.Clamp(a, lowest, highest), xb = TLanes.Clamp(b, lowest, highest);
        TVector na = TLanes.RoundToEven(TLanes.Multiply(xa, log2E)), nb = TLanes.RoundToEven(TLanes.Multiply(xb, log2E));
        TVector ra = TLanes.MultiplyAdd(na, TLanes.Create(-Ln2High), xa), rb = TLanes.MultiplyAdd(nb, TLanes.Create(-Ln2High), xb);
        ra = TLanes.MultiplyAdd(na, TLanes.Create(-Ln2Low), ra);
        rb = TLanes.MultiplyAdd(nb, TLanes.Create(-Ln2Low), rb);
        TVector pa = TLanes.Create(P0), pb = pa;
        pa = TLanes.MultiplyAdd(pa, ra, TLanes.Create(P1));
        pb = TLanes.MultiplyAdd(pb, rb, TLanes.Create(P1));
        pa = TLanes.MultiplyAdd(pa, ra, TLanes.Create(P2));
        pb = TLanes.MultiplyAdd(pb, rb, TLanes.Create(P2));
        pa = TLanes.MultiplyAdd(pa, ra, TLanes.Create(P3));
        pb = TLanes.MultiplyAdd(pb, rb, TLanes.Create(P3));
        pa = TLanes.MultiplyAdd(pa, ra, TLanes.Create(P4));
        pb = TLanes.MultiplyAdd(pb, rb, TLanes.Create(P4));
        pa = TLanes.MultiplyAdd(pa, ra, TLanes.Create(P5));
        pb = TLanes.MultiplyAdd(pb, rb, TLanes.Create(P5));
        pa = TLanes.MultiplyAdd(pa, TLanes.Multiply(ra, ra), TLanes.Add(ra, TLanes.Create(1f)));
        pb = TLanes.MultiplyAdd(pb, TLanes.Multiply(rb, rb), TLanes.Add(rb, TLanes.Create(1f)));
        a = TLanes.ScaleByPowerOfTwo(pa, na);
        b = TLanes.ScaleByPowerOfTwo(pb, nb);
    }
}
