using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The CPU optimizer kernels at each register width the machine runs (Vector128 is ARM64's fast path, checked here on
/// x86), three steps against the float64 reference, at the lengths that cover every width's registers, a tail and the
/// threaded split. The tolerances are those of <see cref="AdamTests"/> and <see cref="RMSpropTests"/>, which check the
/// same steps on every device at the width the machine's plan chooses.
/// </summary>
public sealed class OptimizerWidthTests
{
    // The reference takes the same floats, widened: 0.999 in double would differ from 0.999f's 1 − β2 by 1.3e-5 of it.
    private const float LearningRate = 1e-3f;
    private const float Beta1 = 0.9f;
    private const float Beta2 = 0.999f;
    private const float Alpha = 0.99f;
    private const float Epsilon = 1e-8f;
    private const float WeightDecay = 0.01f;
    private const float Momentum = 0.9f;

    [TestCase("Vector512", false)]
    [TestCase("Vector512", true)]
    [TestCase("Vector256", true)]
    [TestCase("Vector128", true)]
    [TestCase("Scalar", true)]
    public void AdamMatchesTheReferenceAtEveryWidth(string name, bool amsgrad)
    {
        var width = TestWidths.Supported(name);
        foreach (int n in Lengths("cpu"))
        {
            var parameters = Uniform(n, n, -1f, 1f);
            var p = ToDouble(parameters);
            var (m, v, vMax) = (new double[n], new double[n], new double[n]);
            var (mt, vt, vMaxT) = (new float[n], new float[n], new float[n]);
            for (int step = 1; step <= 3; step++)
            {
                float scale = amsgrad && step > 1 ? 0.01f : 1f;
                var g = Uniform(n, (10 * n) + step, -0.5f * scale, 0.5f * scale);
                ReferenceAdam.Step(p, ToDouble(g), m, v, vMax, LearningRate, Beta1, Beta2, Epsilon, WeightDecay, amsgrad, step);
                CpuAdam.Step(parameters, g, mt, vt, vMaxT, AdamCoefficients.For(LearningRate, Beta1, Beta2, Epsilon, WeightDecay, amsgrad, step), 2, width);
            }

            string what = $"{width}, n={n}, amsgrad={amsgrad}";
            AssertClose(mt, m, 3e-8, 1e-6, $"m, {what}");
            AssertClose(vt, v, 1e-14, 1e-6, $"v, {what}");
            AssertClose(vMaxT, amsgrad ? vMax : new double[n], 1e-14, 1e-6, $"max of v, {what}");
            AssertClose(parameters, p, 2e-8, 1.8e-7, $"parameters, {what}");
        }
    }

    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void RMSpropMatchesTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);
        foreach (int n in Lengths("cpu"))
        {
            var parameters = Uniform(n, n, -1f, 1f);
            var p = ToDouble(parameters);
            var (s, b, a) = (new double[n], new double[n], new double[n]);
            var (st, bt, at) = (new float[n], new float[n], new float[n]);
            for (int step = 1; step <= 3; step++)
            {
                // Gradients of 0.05 to 0.5 in size, away from the ill-conditioned |g| ≈ ε/√(1 − α) (RMSpropTests).
                var g = Array.ConvertAll(Uniform(n, (10 * n) + step, -0.45f, 0.45f), x => x + (x < 0f ? -0.05f : 0.05f));
                ReferenceRMSprop.Step(p, ToDouble(g), s, b, a, LearningRate, Alpha, Epsilon, WeightDecay, Momentum, centered: true);
                CpuRMSprop.Step(parameters, g, st, bt, at, RMSpropCoefficients.For(LearningRate, Alpha, Epsilon, WeightDecay, Momentum, centered: true), 2, width);
            }

            string what = $"{width}, n={n}";
            AssertClose(st, s, 1e-14, 1e-6, $"square average, {what}");
            AssertClose(at, a, 3e-8, 1e-6, $"mean gradient, {what}");
            AssertClose(bt, b, 2e-6, 2e-6, $"momentum buffer, {what}");
            AssertClose(parameters, p, 1e-8, 2e-7, $"parameters, {what}");
        }
    }
}
