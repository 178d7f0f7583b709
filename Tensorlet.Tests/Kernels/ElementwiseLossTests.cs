using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The fused elementwise losses (L1, smooth L1, Huber, BCE with logits) on every device and at every CPU width against
/// the float64 reference, at and around their kinks and at logits of huge magnitude, and the reference's gradients
/// against central differences. Bounds: each gradient is a few float roundings of values of at most its
/// <see cref="GradientMagnitude"/>, so 1e-6 of that; the sum adds float terms, each within a few roundings of its
/// <see cref="LossMagnitude"/> (BCE's (1 − y)·x + w·softplus(−x) may cancel), in double, so 1e-6 of Σ magnitude.
/// </summary>
public sealed class ElementwiseLossTests
{
    private const float GradScale = 0.37f;

    /// <summary>
    /// Each loss with its parameters (none for MSE and L1): β for smooth L1 (0 is L1 but for the gradient at 0), δ for
    /// Huber; for BCE, no positive weight, one per column of <see cref="Columns"/>, or one for every element.
    /// </summary>
    private static readonly (ElementwiseLossKind Kind, float Parameter, int Weights)[] Cases =
    [
        (ElementwiseLossKind.Mse, 0f, 0),
        (ElementwiseLossKind.L1, 0f, 0),
        (ElementwiseLossKind.SmoothL1, 1f, 0),
        (ElementwiseLossKind.SmoothL1, 0.5f, 0),
        (ElementwiseLossKind.SmoothL1, 0f, 0),
        (ElementwiseLossKind.Huber, 1f, 0),
        (ElementwiseLossKind.Huber, 0.5f, 0),
        (ElementwiseLossKind.BceWithLogits, 0f, 0),
        (ElementwiseLossKind.BceWithLogits, 0f, Columns),
        (ElementwiseLossKind.BceWithLogits, 0f, 1),
    ];

    // Rows of the positive weight: 7 columns, so rows start at every offset of a register.
    private const int Columns = 7;

    private static IEnumerable<TestCaseData> DevicesAndCases() =>
        from device in TestDevices.All
        from c in Cases
        select new TestCaseData(device, c.Kind.ToString(), c.Parameter, c.Weights).SetArgDisplayNames(device, c.Kind.ToString(), $"p={c.Parameter}", WeightsName(c.Weights));

    private static IEnumerable<TestCaseData> AllCases() =>
        Cases.Select(c => new TestCaseData(c.Kind.ToString(), c.Parameter, c.Weights).SetArgDisplayNames(c.Kind.ToString(), $"p={c.Parameter}", WeightsName(c.Weights)));

    private static string WeightsName(int weights) => weights == 0 ? "-" : $"pos_weight[{weights}]";

    [TestCaseSource(nameof(DevicesAndCases))]
    public void MatchesTheReferenceOnEveryDevice(string deviceName, string loss, float parameter, int weights)
    {
        var kind = Enum.Parse<ElementwiseLossKind>(loss);
        var device = TestDevices.Get(deviceName);
        foreach (int n in Lengths(deviceName).Select(n => n * Columns))
        {
            var (x, y, w) = Data(kind, parameter, weights, n, seed: n);
            using var xT = device.FromArray(x, n);
            using var yT = device.FromArray(y, n);
            using var wT = w is null ? null : device.FromArray(w, w.Length);
            using var gT = device.FromArray(Enumerable.Repeat(float.NaN, n).ToArray(), n);

            double sum = Ops.ElementwiseLoss(kind, parameter, xT, yT, wT, gT, GradScale);

            AssertMatchesReference(kind, parameter, x, y, w, sum, gT.ToArray(), $"{kind} p={parameter} on {deviceName}, n={n}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void BceKeepsTheRelativeAccuracyOfTinyLosses(string deviceName)
    {
        // A confident, right logit: the loss is log1p(e^−|x|) ≈ e^−|x|, which log(1 + e^−|x|) would round to 0.
        var device = TestDevices.Get(deviceName);
        foreach (var (x, y) in new[] { (20f, 1f), (-20f, 0f), (30f, 1f), (-60f, 0f), (88f, 1f) })
        {
            using var xT = device.FromArray([x], 1);
            using var yT = device.FromArray([y], 1);
            using var gT = device.Zeros(1);
            double expected = ReferenceElementwiseLoss.Term(ElementwiseLossKind.BceWithLogits, 0, x, y, 1, out _);
            Assert.That(Ops.ElementwiseLoss(ElementwiseLossKind.BceWithLogits, 0f, xT, yT, null, gT, 1f), Is.EqualTo(expected).Within(1e-5 * expected), $"x={x}, y={y}");
        }
    }

    /// <summary>The CPU loop at each register width the machine runs, on one thread and split across two, deterministic for a thread count.</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuLoopMatchesTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);
        foreach (var (kind, parameter, weights) in Cases)
        {
            foreach (int n in new[] { 1, 3, 4, 7, 8, 15, 16, 17, 33, 100, 70_001 })
            {
                int length = weights == Columns ? n * Columns : n;
                var (x, y, w) = Data(kind, parameter, weights, length, seed: 500 + n);
                foreach (int threads in new[] { 1, 2 })
                {
                    var g = new float[length];
                    double sum = CpuElementwiseLoss.Evaluate(kind, parameter, x, y, w, g, GradScale, threads, width);
                    AssertMatchesReference(kind, parameter, x, y, w, sum, g, $"{kind} p={parameter} at {width}, n={length}, {threads} threads");
                    var again = new float[length];
                    Assert.That(CpuElementwiseLoss.Evaluate(kind, parameter, x, y, w, again, GradScale, threads, width), Is.EqualTo(sum), "the same sum again");
                }
            }
        }
    }

    [TestCaseSource(nameof(AllCases))]
    public void ReferenceGradientMatchesCentralDifferences(string loss, float parameter, int weights)
    {
        var kind = Enum.Parse<ElementwiseLossKind>(loss);
        const double h = 1e-6;
        var (xf, yf, wf) = Data(kind, parameter, weights, 40 * Columns, seed: 9);
        for (int i = 0; i < xf.Length; i++)
        {
            double x = xf[i], y = yf[i], p = wf is null ? 1 : wf[i % wf.Length];
            double d = x - y;
            if (Math.Abs(x) > 50 || Math.Abs(d) < 1e-3 || Math.Abs(Math.Abs(d) - parameter) < 1e-3)
            {
                continue; // at a kink central differences are not a derivative; past |x| = 50 the loss is linear in x and the step below its ulp.
            }

            double numeric = (Term(x + h) - Term(x - h)) / (2 * h);
            ReferenceElementwiseLoss.Term(kind, parameter, x, y, p, out double analytic);
            analytic *= kind == ElementwiseLossKind.Mse ? 2 : 1; // MSE's reference gradient is d; the loss's factor 2 is the scale's
            double relative = Math.Abs(analytic - numeric) / Math.Max(Math.Max(Math.Abs(analytic), Math.Abs(numeric)), 1e-8);
            Assert.That(relative, Is.LessThan(1e-6), $"{kind} at x={x}, y={y}, p={p}: analytic {analytic}, numeric {numeric}");

            double Term(double at) => ReferenceElementwiseLoss.Term(kind, parameter, at, y, p, out _);
        }
    }

    [Test]
    public void TheReferenceGradientAtTheKinksIsPyTorchs()
    {
        static double Gradient(ElementwiseLossKind kind, double parameter, double d)
        {
            ReferenceElementwiseLoss.Term(kind, parameter, d, 0, 1, out double g);
            return g;
        }

        Assert.Multiple(() =>
        {
            Assert.That(Gradient(ElementwiseLossKind.L1, 0, 0), Is.EqualTo(0), "L1 at d = 0: sign(0)");
            Assert.That(Gradient(ElementwiseLossKind.SmoothL1, 0.5, 0.5), Is.EqualTo(1), "smooth L1 at d = β");
            Assert.That(Gradient(ElementwiseLossKind.SmoothL1, 0.5, -0.5), Is.EqualTo(-1), "smooth L1 at d = −β");
            Assert.That(Gradient(ElementwiseLossKind.SmoothL1, 0, 0), Is.EqualTo(-1), "smooth L1 with β = 0 at d = 0: d ≤ −β");
            Assert.That(Gradient(ElementwiseLossKind.Huber, 0.5, 0.5), Is.EqualTo(0.5), "Huber at d = δ");
            Assert.That(Gradient(ElementwiseLossKind.Huber, 0.5, -0.5), Is.EqualTo(-0.5), "Huber at d = −δ");
        });
    }

    private static void AssertMatchesReference(ElementwiseLossKind kind, float parameter, float[] x, float[] y, float[]? w, double sum, float[] gradient, string what)
    {
        var gradientExpected = new double[x.Length];
        double sumExpected = ReferenceElementwiseLoss.Evaluate(kind, parameter, ToDouble(x), ToDouble(y), w is null ? default : ToDouble(w), gradientExpected, GradScale);
        double magnitude = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double p = w is null ? 1 : w[i % w.Length];
            magnitude += LossMagnitude(kind, parameter, x[i], y[i], p);
            double bound = 1e-6 * GradScale * GradientMagnitude(kind, parameter, y[i], p);
            if (!(Math.Abs(gradient[i] - gradientExpected[i]) <= bound))
            {
                Assert.Fail($"{what}: gradient[{i}] at x={x[i]:R}, y={y[i]:R}, p={p} is {gradient[i]:R}, reference {gradientExpected[i]:R}, bound {bound:E2}.");
            }
        }

        Assert.That(sum, Is.EqualTo(sumExpected).Within(1e-6 * magnitude), $"{what}: the sum");
    }

    // What a term's float roundings are relative to.
    private static double LossMagnitude(ElementwiseLossKind kind, double parameter, double x, double y, double p)
    {
        double z = Math.Abs(x - y);
        return kind == ElementwiseLossKind.BceWithLogits
            ? (Math.Abs((1 - y) * x) + (Math.Abs(1 + ((p - 1) * y)) * (Math.Abs(x) + 1)))
            : (z * z) + z + parameter;
    }

    private static double GradientMagnitude(ElementwiseLossKind kind, double parameter, double y, double p) => kind switch
    {
        ElementwiseLossKind.Huber => parameter,
        ElementwiseLossKind.Mse => 3, // |d| ≤ 3 (Data)
        ElementwiseLossKind.BceWithLogits => Math.Abs(1 + ((p - 1) * y)) + Math.Abs(p * y),
        _ => 1,
    };

    /// <summary>
    /// Predictions, targets in [0, 1] and positive weights (<paramref name="weights"/> of them, or null for none). For L1, smooth L1 and Huber, every
    /// third element sits at a kink or a hair either side (d = 0, ±β, ±β·(1 ± 2⁻⁸), exact in float), the rest spread
    /// over |d| ≤ 3. For BCE, every third logit is one of ±1e30, ±100, ±88, ±20 and 0, the rest in [−10, 10]; every
    /// fifth target is 0 or 1.
    /// </summary>
    private static (float[] X, float[] Y, float[]? W) Data(ElementwiseLossKind kind, float parameter, int weights, int n, int seed)
    {
        var random = new Random(seed);
        var x = new float[n];
        var y = new float[n];
        float kink = parameter > 0 ? parameter : 0.5f;
        float[] kinks = [0f, parameter, -parameter, kink * (1 + (1f / 256)), kink * (1 - (1f / 256)), -kink * (1 + (1f / 256)), -kink * (1 - (1f / 256))];
        float[] logits = [1e30f, -1e30f, 100f, -100f, 88f, -88f, 20f, -20f, 0f];
        for (int i = 0; i < n; i++)
        {
            y[i] = random.Next(65) / 64f;
            if (kind == ElementwiseLossKind.BceWithLogits)
            {
                if (i % 5 != 0)
                {
                    y[i] = random.NextSingle();
                }

                x[i] = i % 3 == 0 ? logits[random.Next(logits.Length)] : (random.NextSingle() * 20f) - 10f;
            }
            else
            {
                x[i] = y[i] + (i % 3 == 0 ? kinks[random.Next(kinks.Length)] : (random.NextSingle() * 6f) - 3f);
            }
        }

        float[]? w = weights > 0 ? [.. Enumerable.Range(0, weights).Select(_ => 0.2f + (random.NextSingle() * 4f))] : null;
        return (x, y, w);
    }
}
