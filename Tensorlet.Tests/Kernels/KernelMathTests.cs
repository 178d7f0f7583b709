using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The ILGPU kernels' exp, log, tanh and σ (<see cref="KernelMath"/>) against float64, run as plain .NET code, which is
/// how ILGPU's CPU accelerator runs them (multiplies and adds rounded separately; a GPU may fuse some pairs, which
/// only removes roundings). And against the CPU kernels' exp, which they must match to the last bit or one ulp.
/// </summary>
public sealed class KernelMathTests
{
    private static IEnumerable<float> EveryNthFloat(float below, int step)
    {
        for (int bits = 0; bits < BitConverter.SingleToInt32Bits(below); bits += step)
        {
            yield return BitConverter.Int32BitsToSingle(bits);
        }
    }

    private static double UlpError(float actual, double expected)
    {
        float rounded = (float)expected;
        double ulp = MathF.BitIncrement(MathF.Abs(rounded)) - MathF.Abs(rounded);
        return Math.Abs(actual - expected) / ulp;
    }

    private static (double Worst, float At) Worst(IEnumerable<float> xs, Func<float, double> error)
    {
        double worst = 0;
        float at = 0;
        foreach (float x in xs)
        {
            double e = error(x);
            if (e > worst)
            {
                (worst, at) = (e, x);
            }
        }

        TestContext.Out.WriteLine($"worst {worst:G4} at x = {at:R}");
        return (worst, at);
    }

    // e^x normal: −87.3 to 88.7, both signs, plus a dense grid near 0.
    private static IEnumerable<float> ExpArguments()
        => EveryNthFloat(88.7f, 4099).SelectMany(x => x <= 87.3f ? new[] { x, -x } : [x])
            .Concat(Enumerable.Range(-4096, 8193).Select(i => i * 1e-4f));

    [Test]
    public void ExpIsWithinOneAndAHalfUlpOfFloat64()
    {
        var (worst, at) = Worst(ExpArguments(), x => UlpError(KernelMath.Exp(x), Math.Exp(x)));
        Assert.That(worst, Is.LessThanOrEqualTo(1.5), $"worst at x = {at:R}: {worst:F2} ulp");
    }

    [Test]
    public void ExpIsTheCpuKernelsExpWithinOneUlp()
    {
        var (worst, at) = Worst(ExpArguments(), x => Math.Abs(KernelMath.Exp(x) - FloatLanes1.Exp(x)) / (MathF.BitIncrement(FloatLanes1.Exp(x)) - FloatLanes1.Exp(x)));
        Assert.That(worst, Is.LessThanOrEqualTo(1.0), $"worst at x = {at:R}: {worst:F2} ulp");
    }

    [Test]
    public void ExpGivesTheCpuKernelsLimitsAndKeepsNaN()
    {
        float[] x = [float.NegativeInfinity, -1e30f, -200f, -104f, -103.9f, -90f, 0f, -0f, 88.72f, 88.8f, 89f, 200f, float.PositiveInfinity];
        Assert.Multiple(() =>
        {
            foreach (float v in x)
            {
                Assert.That(KernelMath.Exp(v), Is.EqualTo(FloatLanes1.Exp(v)), $"exp({v:R})");
            }

            Assert.That(KernelMath.Exp(float.NaN), Is.NaN);
        });
    }

    [Test]
    public void LogIsWithinOneUlpOfFloat64()
    {
        // Every 4099th positive float: subnormals, normals across every exponent, up to the largest.
        var (worst, at) = Worst(EveryNthFloat(float.MaxValue, 4099).Where(x => x > 0f), x => UlpError(KernelMath.Log(x), Math.Log(x)));
        Assert.That(worst, Is.LessThanOrEqualTo(1.0), $"worst at x = {at:R}: {worst:F2} ulp");
    }

    [Test]
    public void LogGivesTheLimits()
    {
        Assert.Multiple(() =>
        {
            Assert.That(KernelMath.Log(1f), Is.EqualTo(0f));
            Assert.That(KernelMath.Log(0f), Is.EqualTo(float.NegativeInfinity));
            Assert.That(KernelMath.Log(-0f), Is.EqualTo(float.NegativeInfinity));
            Assert.That(KernelMath.Log(float.PositiveInfinity), Is.EqualTo(float.PositiveInfinity));
            Assert.That(KernelMath.Log(-1f), Is.NaN);
            Assert.That(KernelMath.Log(float.NaN), Is.NaN);
        });
    }

    [Test]
    public void TanhAndSigmoidAreWithinTheActivationTolerances()
    {
        // As ActivationTests: (1 − e)/(1 + e) loses relative accuracy near 0 but stays within about 2e-7 absolute.
        var xs = EveryNthFloat(20f, 4099).SelectMany(x => new[] { x, -x }).ToList();
        var (tanh, tanhAt) = Worst(xs, x => Math.Abs(KernelMath.Tanh(x) - Math.Tanh(x)) / (1e-6 + (1e-6 * Math.Abs(Math.Tanh(x)))));
        var (sigmoid, sigmoidAt) = Worst(xs, x => Math.Abs(KernelMath.Sigmoid(x) - (1 / (1 + Math.Exp(-x)))) / (1e-6 + (1e-6 / (1 + Math.Exp(-x)))));
        Assert.Multiple(() =>
        {
            Assert.That(tanh, Is.LessThanOrEqualTo(0.25), $"tanh worst at x = {tanhAt:R}: {tanh:F3} of 1e-6 abs + 1e-6 rel");
            Assert.That(sigmoid, Is.LessThanOrEqualTo(0.25), $"σ worst at x = {sigmoidAt:R}: {sigmoid:F3} of 1e-6 abs + 1e-6 rel");
            Assert.That(KernelMath.Tanh(-0f), Is.EqualTo(-0f).And.Matches<float>(float.IsNegative));
            Assert.That(KernelMath.Tanh(float.NegativeInfinity), Is.EqualTo(-1f));
            Assert.That(KernelMath.Tanh(float.NaN), Is.NaN);
            Assert.That(KernelMath.Sigmoid(-1000f), Is.EqualTo(0f));
            Assert.That(KernelMath.Sigmoid(1000f), Is.EqualTo(1f));
        });
    }
}
