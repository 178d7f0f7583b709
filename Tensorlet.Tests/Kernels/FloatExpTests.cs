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
}
