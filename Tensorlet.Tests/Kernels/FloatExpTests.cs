using System.Runtime.Intrinsics;
using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The CPU kernels' exp (<see cref="FloatExp"/>) against the float64 exp, at every lane width: within 1.25 ulp over the
/// whole range where e^x is a normal float, the right limits outside it, NaN kept, and the same float in every lane.
/// </summary>
public sealed unsafe class FloatExpTests
{
    private const float MaxUlp = 1.25f;

    /// <summary>Every 65,536th float between −87.3 and 88.7 (e^x normal), plus a dense grid near 0, where r is smallest.</summary>
    private static float[] Arguments()
    {
        var values = new List<float>();

        // Walk the bit patterns of |x| (monotonic in |x| for positive floats) and take both signs.
        for (int bits = 0; bits < BitConverter.SingleToInt32Bits(88.7f); bits += 65536)
        {
            float x = BitConverter.Int32BitsToSingle(bits);
            values.Add(x);
            if (x <= 87.3f)
            {
                values.Add(-x);
            }
        }

        for (int i = -4096; i <= 4096; i++)
        {
            values.Add(i * 1e-4f);
        }

        return [.. values];
    }

    private static double UlpError(float actual, double expected)
    {
        float rounded = (float)expected;
        double ulp = MathF.BitIncrement(rounded) - rounded;
        return Math.Abs(actual - expected) / ulp;
    }

    /// <summary>Exp over a span with one width; the tail (count not a multiple of the width) goes through the scalar lane.</summary>
    private static float[] ExpAll(float[] x, int width)
    {
        var y = new float[x.Length];
        fixed (float* px = x, py = y)
        {
            int i = 0;
            if (width == 16)
            {
                for (; i + 16 <= x.Length; i += 16)
                {
                    FloatLanes512.Exp(Vector512.Load(px + i)).Store(py + i);
                }
            }
            else if (width == 8)
            {
                for (; i + 8 <= x.Length; i += 8)
                {
                    FloatLanes256.Exp(Vector256.Load(px + i)).Store(py + i);
                }
            }
            else if (width == 4)
            {
                for (; i + 4 <= x.Length; i += 4)
                {
                    FloatLanes128.Exp(Vector128.Load(px + i)).Store(py + i);
                }
            }

            for (; i < x.Length; i++)
            {
                py[i] = FloatLanes1.Exp(px[i]);
            }
        }

        return y;
    }

    [TestCase(16)]
    [TestCase(8)]
    [TestCase(1)]
    public void IsWithinOneAndAQuarterUlpOfTheFloat64Exp(int width)
    {
        float[] x = Arguments();
        float[] y = ExpAll(x, width);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double error = UlpError(y[i], Math.Exp(x[i]));
            if (error > worst)
            {
                worst = error;
                worstAt = x[i];
            }
        }

        Assert.That(worst, Is.LessThanOrEqualTo(MaxUlp), $"worst at x = {worstAt:R}: {worst:F2} ulp");
    }

    [TestCase(16)]
    [TestCase(8)]
    [TestCase(1)]
    public void GivesTheLimitsAndKeepsNaN(int width)
    {
        float[] x = [float.NegativeInfinity, -1e30f, -200f, -104f, float.PositiveInfinity, 1e30f, 200f, 89f, 88.8f, float.NaN, 0f, -0f, 1f, -1f, 88.72f, -103.9f];
        float[] y = ExpAll(x, width);
        Assert.Multiple(() =>
        {
            for (int i = 0; i < 4; i++)
            {
                Assert.That(y[i], Is.EqualTo(0f), $"exp({x[i]})");
            }

            for (int i = 4; i < 9; i++)
            {
                Assert.That(y[i], Is.EqualTo(float.PositiveInfinity), $"exp({x[i]})");
            }

            Assert.That(y[9], Is.NaN, "exp(NaN)");
            Assert.That(y[10], Is.EqualTo(1f), "exp(0)");
            Assert.That(y[11], Is.EqualTo(1f), "exp(-0)");
            Assert.That(UlpError(y[12], Math.E), Is.LessThanOrEqualTo(MaxUlp), "exp(1)");
            Assert.That(UlpError(y[13], 1 / Math.E), Is.LessThanOrEqualTo(MaxUlp), "exp(-1)");
            Assert.That(UlpError(y[14], Math.Exp(88.72f)), Is.LessThanOrEqualTo(MaxUlp), "exp(88.72), the largest normal results");
        });

        // e^−103.9 is subnormal: one rounding to the nearest subnormal, within half of the smallest subnormal.
        Assert.That(Math.Abs(y[15] - Math.Exp(-103.9f)), Is.LessThanOrEqualTo(float.Epsilon / 2.0 + 1e-60), "exp(-103.9)");
    }

    [Test]
    public void EveryWidthGivesTheSameFloats()
    {
        // The kernels run the widest lanes first and the scalar lane on a row's tail: an element's value must not depend on which.
        float[] x = Arguments();
        float[] wide = ExpAll(x, 16), middle = ExpAll(x, 8), scalar = ExpAll(x, 1);
        for (int i = 0; i < x.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(wide[i]) != BitConverter.SingleToInt32Bits(scalar[i])
                || BitConverter.SingleToInt32Bits(middle[i]) != BitConverter.SingleToInt32Bits(scalar[i]))
            {
                Assert.Fail($"exp({x[i]:R}): {wide[i]:R} (16 lanes), {middle[i]:R} (8 lanes), {scalar[i]:R} (scalar)");
            }
        }
    }

    /// <summary>
    /// The interleaved pair (<see cref="FloatExp.EvaluatePair"/>, which the recurrent cells use for two registers of units)
    /// gives bit for bit the floats of one register at a time, the limits and NaN included, in either register of the pair.
    /// </summary>
    [TestCase(16)]
    [TestCase(8)]
    [TestCase(4)]
    [TestCase(1)]
    public void ThePairGivesTheFloatsOfOneRegister(int width)
    {
        float[] x = [float.NegativeInfinity, -1e30f, -104f, float.PositiveInfinity, 89f, 88.8f, float.NaN, -0f, -103.9f, .. Arguments()];
        float[] single = ExpAll(x, width);
        int n = x.Length / (2 * width) * 2 * width;
        var first = new float[n];
        var second = new float[n];
        fixed (float* px = x, pf = first, ps = second)
        {
            for (int i = 0; i < n; i += 2 * width)
            {
                // Each half once as the pair's first register and once as its second.
                Pair(width, px + i, px + i + width, pf + i, ps + i + width);
                Pair(width, px + i + width, px + i, pf + i + width, ps + i);
            }
        }

        for (int i = 0; i < n; i++)
        {
            int expected = BitConverter.SingleToInt32Bits(single[i]);
            if (BitConverter.SingleToInt32Bits(first[i]) != expected || BitConverter.SingleToInt32Bits(second[i]) != expected)
            {
                Assert.Fail($"exp({x[i]:R}): {first[i]:R} as the first register, {second[i]:R} as the second, {single[i]:R} alone");
            }
        }
    }

    /// <summary>EvaluatePair of the registers at <paramref name="a"/> and <paramref name="b"/>; stores a's result to <paramref name="ya"/> and b's to <paramref name="yb"/>.</summary>
    private static void Pair(int width, float* a, float* b, float* ya, float* yb)
    {
        switch (width)
        {
            case 16:
                Pair<FloatLanes512, Vector512<float>>(a, b, ya, yb);
                break;
            case 8:
                Pair<FloatLanes256, Vector256<float>>(a, b, ya, yb);
                break;
            case 4:
                Pair<FloatLanes128, Vector128<float>>(a, b, ya, yb);
                break;
            default:
                Pair<FloatLanes1, float>(a, b, ya, yb);
                break;
        }
    }

    private static void Pair<TLanes, TVector>(float* a, float* b, float* ya, float* yb)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        TVector va = TLanes.Load(a), vb = TLanes.Load(b);
        FloatExp.EvaluatePair<TLanes, TVector>(ref va, ref vb);
        TLanes.Store(va, ya);
        TLanes.Store(vb, yb);
    }
}
