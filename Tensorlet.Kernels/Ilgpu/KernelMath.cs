using ILGPU;
using ILGPU.Algorithms;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// exp, log, tanh, σ and erf for the ILGPU kernels, from IEEE-rounded adds, multiplies and divisions only, with the
/// CPU kernels' formulas (<see cref="FloatExp"/>, <see cref="TanhOperator"/>, <see cref="FloatErf"/>), so every device
/// computes the same function. ILGPU's <c>XMath.Tanh</c>, <c>XMath.Exp</c> and <c>XMath.Log</c> compile to the GPU's <c>tanh.approx.f32</c>
/// (relative error up to about 1e-5 on sm_75 and newer), to <c>ex2.approx.f32</c> of a rounded x·log₂e (relative
/// error growing with |x|, about 4e-6 at x = −60) and to <c>lg2.approx.f32</c>. KernelPtxTests checks that no kernel
/// contains an approximate instruction, and KernelMathTests and ErfTests measure these against float64.
/// <para>
/// ILGPU 1.5.3 has no fused multiply-add (MathF.FusedMultiplyAdd compiles to a call the driver cannot link), so the
/// polynomials are written as multiplies and adds. The GPU's PTX compiler may fuse such a pair, as the CPU kernels'
/// MultiplyAddEstimate does on a CPU with FMA: results then agree with the CPU kernels to the last bit or two, not always bitwise.
/// </para>
/// </summary>
internal static class KernelMath
{
    // 1.5·2²³: adding and subtracting it rounds any |t| < 2²² to the nearest integer, ties to even.
    private const float RoundingShift = 12582912f;

    private const float SqrtHalf = 0.707106781186547524f;

    /// <summary>
    /// e^x as <see cref="FloatExp"/> computes it: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by Cephes' degree-6
    /// polynomial, scaled by 2^n. 0 below about −103.97, +∞ above about 88.72, NaN for NaN.
    /// </summary>
    public static float Exp(float x)
    {
        // PTX min and max return the number when one operand is NaN; the CPU kernel returns NaN.
        if (float.IsNaN(x))
        {
            return x;
        }

        x = XMath.Min(XMath.Max(x, FloatExp.Lowest), FloatExp.Highest);
        float n = ((x * FloatExp.Log2E) + RoundingShift) - RoundingShift;
        float r = x - (n * FloatExp.Ln2High);
        r -= n * FloatExp.Ln2Low;
        float p = FloatExp.P0;
        p = (p * r) + FloatExp.P1;
        p = (p * r) + FloatExp.P2;
        p = (p * r) + FloatExp.P3;
        p = (p * r) + FloatExp.P4;
        p = (p * r) + FloatExp.P5;
        p = (p * (r * r)) + (r + 1f);
        return ScaleByPowerOfTwo(p, (int)n);
    }

    /// <summary>
    /// ln x by Cephes' logf: x = m·2^e with m in [√½, √2), ln m by a degree-9 polynomial in m − 1, plus e·ln 2 in two
    /// parts. Within about 1 ulp for normal x; −∞ for 0, NaN for negative x and NaN, +∞ for +∞, subnormal x scaled first.
    /// </summary>
    public static float Log(float x)
    {
        if (!(x > 0f) || float.IsPositiveInfinity(x))
        {
            return x == 0f ? float.NegativeInfinity : x > 0f ? x : float.NaN;
        }

        int exponentBias = 126;
        if (x < FloatLimits.SmallestNormal)
        {
            x *= 33554432f; // 2²⁵
            exponentBias += 25;
        }

        uint bits = Interop.FloatAsInt(x);
        float e = (int)(bits >> 23) - exponentBias;
        float m = Interop.IntAsFloat((bits & 0x007FFFFFu) | 0x3F000000u); // in [0.5, 1)
        if (m < SqrtHalf)
        {
            e -= 1f;
            m = m + m - 1f;
        }
        else
        {
            m -= 1f;
        }

        float z = m * m;
        float y = 7.0376836292e-2f;
        y = (y * m) - 1.1514610310e-1f;
        y = (y * m) + 1.1676998740e-1f;
        y = (y * m) - 1.2420140846e-1f;
        y = (y * m) + 1.4249322787e-1f;
        y = (y * m) - 1.6668057665e-1f;
        y = (y * m) + 2.0000714765e-1f;
        y = (y * m) - 2.4999993993e-1f;
        y = (y * m) + 3.3333331174e-1f;
        y *= m * z;
        y += e * FloatExp.Ln2Low;
        y -= 0.5f * z;
        return m + y + (e * FloatExp.Ln2High);
    }

    /// <summary>tanh(x) = sign(x)·(1 − e)/(1 + e) with e = e^(−2|x|), as <see cref="TanhOperator"/>: e never overflows.</summary>
    public static float Tanh(float x)
    {
        float e = Exp(-2f * XMath.Abs(x));
        float magnitude = (1f - e) / (1f + e);
        return x < 0f ? -magnitude : x > 0f ? magnitude : x;
    }

    /// <summary>
    /// 0 for |x| below float's smallest normal, else x: the optimizers' states are flushed so, as on the CPU
    /// (<see cref="IFloatLanes{TVector}.FlushSubnormal"/>), so that every device keeps the same states.
    /// </summary>
    public static float FlushSubnormal(float x) => XMath.Abs(x) < FloatLimits.SmallestNormal ? 0f : x;

    /// <summary>σ(x) = 1/(1 + e^−x): e^−x is +∞ for x below about −88, which gives exactly 0, never NaN.</summary>
    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    /// <summary>
    /// erf(x) as <see cref="FloatErf"/> computes it, with its coefficients: x + x·S(x²) below |x| = 0.875, else
    /// 1 − e^L(|x| − 0.875) with the sign of x. The clamp is a comparison, which keeps NaN (PTX min would not).
    /// </summary>
    public static float Erf(float x)
    {
        float t = XMath.Abs(x);
        if (t < FloatErf.Split)
        {
            float x2 = x * x;
            float s = FloatErf.S5;
            s = (s * x2) + FloatErf.S4;
            s = (s * x2) + FloatErf.S3;
            s = (s * x2) + FloatErf.S2;
            s = (s * x2) + FloatErf.S1;
            s = (s * x2) + FloatErf.S0;
            return (s * x) + x;
        }

        float r = (t > FloatErf.Saturation ? FloatErf.Saturation : t) - FloatErf.Split;
        float l = FloatErf.L6;
        l = (l * r) + FloatErf.L5;
        l = (l * r) + FloatErf.L4;
        l = (l * r) + FloatErf.L3;
        l = (l * r) + FloatErf.L2;
        l = (l * r) + FloatErf.L1;
        l = (l * r) + FloatErf.L0;
        float magnitude = 1f - Exp(l);
        return x < 0f ? -magnitude : magnitude;
    }

    /// <summary>
    /// p·2^n for n in [−150, 128] (what the clamp in <see cref="Exp"/> allows), as <see cref="MathF.ScaleB"/> computes it:
    /// two normal powers of two, so p·2^half is exact and the second multiply rounds once, to a subnormal, 0 or ∞ where due.
    /// </summary>
    private static float ScaleByPowerOfTwo(float p, int n)
    {
        int half = n / 2;
        return p * PowerOfTwo(half) * PowerOfTwo(n - half);
    }

    // 2^k for k in [−126, 127]: the exponent field alone.
    private static float PowerOfTwo(int k) => Interop.IntAsFloat((uint)(k + 127) << 23);
}
