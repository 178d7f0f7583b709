using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Ilgpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// erf: the float64 reference (<see cref="ReferenceErf"/>) against known values, then the float erf of the GELU kernels
/// against it, on the CPU at every register width (<see cref="FloatErf"/>) and as the ILGPU kernels compute it
/// (<see cref="KernelMath.Erf"/>, run as plain .NET code, as ILGPU's CPU accelerator runs it): within the ulps and the
/// absolute error that FloatErf documents.
/// </summary>
public sealed class ErfTests
{
    // Measured over every float within 4096 ulps of the split (where both pieces peak): FloatErf 1.07 ulp and 6.4e-8,
    // KernelMath.Erf (without fused multiply-adds, as it rounds) 1.23 ulp and 7.3e-8.
    private const double MaxUlp = 1.25;
    private const double MaxAbsolute = 7.5e-8;

    /// <summary>erf(x) to 17 digits, from mpmath at 30 digits.</summary>
    private static readonly (double X, double Erf)[] KnownErf =
    [
        (1e-10, 1.1283791670955126e-10), (0.1, 0.11246291601828489), (0.5, 0.52049987781304654), (0.875, 0.78407506105985966),
        (0.999, 0.84228527020649694), (1, 0.84270079294971487), (1.5, 0.96610514647531073), (2, 0.99532226501895273),
        (3, 0.99997790950300141), (4, 0.9999999845827421), (-0.7, -0.67780119383741847), (-2.5, -0.99959304798255504),
    ];

    /// <summary>erfc(x) to 17 digits, from mpmath at 30 digits: far into the tail, where 1 − erf would have cancelled.</summary>
    private static readonly (double X, double Erfc)[] KnownErfc =
    [
        (-1, 1.8427007929497149), (0.3, 0.67137324054087257), (1, 0.15729920705028513), (2, 0.0046777349810472658),
        (3, 2.2090496998585441e-5), (5, 1.5374597944280349e-12), (10, 2.0884875837625448e-45), (20, 5.3958656116079009e-176),
        (26, 5.6631924088561428e-296),
    ];

    [Test]
    public void TheReferenceGivesKnownValuesToAFewUlpsOfDouble()
    {
        Assert.Multiple(() =>
        {
            foreach (var (x, erf) in KnownErf)
            {
                Assert.That(Math.Abs(ReferenceErf.Erf(x) - erf) / Math.Abs(erf), Is.LessThanOrEqualTo(2e-15), $"erf({x:R}) = {ReferenceErf.Erf(x):R}, known {erf:R}");
                Assert.That(ReferenceErf.Erf(-x), Is.EqualTo(-ReferenceErf.Erf(x)), $"erf is odd at {x:R}");
            }

            foreach (var (x, erfc) in KnownErfc)
            {
                Assert.That(Math.Abs(ReferenceErf.Erfc(x) - erfc) / erfc, Is.LessThanOrEqualTo(2e-15), $"erfc({x:R}) = {ReferenceErf.Erfc(x):R}, known {erfc:R}");
            }

            Assert.That(ReferenceErf.Erf(0), Is.EqualTo(0));
            Assert.That(ReferenceErf.Erf(double.PositiveInfinity), Is.EqualTo(1));
            Assert.That(ReferenceErf.Erfc(double.NegativeInfinity), Is.EqualTo(2));
            Assert.That(ReferenceErf.Erfc(30), Is.EqualTo(0), "below the smallest double");
            Assert.That(ReferenceErf.Erf(double.NaN), Is.NaN);
        });
    }

    /// <summary>The CPU erf at each register width the machine runs; the tail of each run goes through narrower lanes.</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void TheCpuErfIsWithinItsBoundAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);

        float[] x = Arguments();
        AssertWithinBound(x, CpuErf(x, width), $"FloatErf at {width}");
    }

    [Test]
    public void TheIlgpuKernelsErfIsWithinItsBound()
    {
        float[] x = Arguments();
        AssertWithinBound(x, Array.ConvertAll(x, KernelMath.Erf), "KernelMath.Erf");
    }

    [Test]
    public void BothGiveTheLimitsSignedZerosAndNaN()
    {
        float[] x = [0f, -0f, 4f, 5f, -6f, 1e30f, -1e30f, float.MaxValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon];
        float[] expected = [0f, -0f, 1f, 1f, -1f, 1f, -1f, 1f, 1f, -1f];
        foreach (var (name, y) in new[] { ("FloatErf", CpuErf(x, CpuVectorWidth.Scalar)), ("KernelMath.Erf", Array.ConvertAll(x, KernelMath.Erf)) })
        {
            Assert.Multiple(() =>
            {
                for (int i = 0; i < expected.Length; i++)
                {
                    Assert.That(BitConverter.SingleToInt32Bits(y[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected[i])), $"{name}({x[i]:R}) = {y[i]:R}");
                }

                Assert.That(y[^3], Is.NaN, $"{name}(NaN)");

                // erf of the smallest subnormal is 2/√π of it, which rounds to that subnormal or the next, with its sign.
                Assert.That(y[^2], Is.EqualTo(float.Epsilon).Or.EqualTo(2 * float.Epsilon), $"{name}(ε)");
                Assert.That(y[^1], Is.EqualTo(-y[^2]), $"{name}(−ε)");
            });
        }
    }

    /// <summary>Every 4099th float from 0 to 10, both signs (subnormals, both pieces, the split and the saturation), and every float near the split.</summary>
    private static float[] Arguments()
    {
        var values = new List<float>();
        for (int bits = 0; bits < BitConverter.SingleToInt32Bits(10f); bits += 4099)
        {
            float x = BitConverter.Int32BitsToSingle(bits);
            values.Add(x);
            values.Add(-x);
        }

        // Every float within 4096 ulps of the split, where the two pieces' errors peak.
        int split = BitConverter.SingleToInt32Bits(FloatErf.Split);
        for (int bits = split - 4096; bits <= split + 4096; bits++)
        {
            values.Add(BitConverter.Int32BitsToSingle(bits));
        }

        return [.. values];
    }

    private static float[] CpuErf(float[] x, CpuVectorWidth width)
    {
        var y = new float[x.Length];
        CpuElementwise.Unary(x, y, default(ErfOperator), width);
        return y;
    }

    private static void AssertWithinBound(float[] x, float[] y, string what)
    {
        double worstUlp = 0, worstAbsolute = 0;
        float ulpAt = 0, absoluteAt = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double expected = ReferenceErf.Erf(x[i]);
            double absolute = Math.Abs(y[i] - expected);
            float rounded = MathF.Abs((float)expected);
            double ulp = Math.Abs(y[i] - expected) / (MathF.BitIncrement(rounded) - rounded);
            if (!(ulp <= worstUlp))
            {
                (worstUlp, ulpAt) = (double.IsNaN(ulp) ? double.PositiveInfinity : ulp, x[i]);
            }

            if (absolute > worstAbsolute)
            {
                (worstAbsolute, absoluteAt) = (absolute, x[i]);
            }
        }

        TestContext.Out.WriteLine($"{what}: worst {worstUlp:F3} ulp at x = {ulpAt:R}, worst {worstAbsolute:E3} absolute at x = {absoluteAt:R}");
        Assert.Multiple(() =>
        {
            Assert.That(worstUlp, Is.LessThanOrEqualTo(MaxUlp), $"{what}: ulps at x = {ulpAt:R}");
            Assert.That(worstAbsolute, Is.LessThanOrEqualTo(MaxAbsolute), $"{what}: absolute error at x = {absoluteAt:R}");
        });
    }

    private readonly struct ErfOperator : IUnaryOperator
    {
        public TVector Invoke<TLanes, TVector>(TVector x)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct => FloatErf.Evaluate<TLanes, TVector>(x);
    }
}
