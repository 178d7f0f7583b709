using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// softmax(logits / T) on every device against the float64 reference. Tolerance |Δ| ≤ 2e-6 + 2e-6·|ref|:
/// probabilities lie in [0, 1] and carry the error of one exp and of a float32 sum of V terms (see the
/// cross-entropy tests); the temperature adds one rounding of 1/T.
/// </summary>
public sealed class TemperatureSoftmaxTests
{
    private static readonly (int Rows, int Classes, float Temperature)[] Cases =
        [(1, 1, 1f), (1, 7, 0.5f), (1, 33, 2.5f), (1, 127, 1f), (7, 1, 0.5f), (7, 7, 2.5f), (7, 33, 1f), (7, 127, 0.5f),
         (33, 1, 2.5f), (33, 7, 1f), (33, 33, 0.5f), (33, 127, 2.5f), (3, 1000, 0.7f)];

    private static IEnumerable<TestCaseData> DevicesAndCases() =>
        from device in TestDevices.All
        from c in Cases
        select new TestCaseData(device, c.Rows, c.Classes, c.Temperature).SetArgDisplayNames(device, $"N={c.Rows}", $"V={c.Classes}", $"T={c.Temperature}");

    [TestCaseSource(nameof(DevicesAndCases))]
    public void MatchesReference(string deviceName, int rows, int classes, float temperature)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((rows * 10007) + classes);
        var logits = Uniform(rng, rows * classes, 5);
        using var logitsT = device.FromArray(logits, rows, classes);
        using var probabilitiesT = device.Zeros(rows, classes);

        Ops.SoftmaxWithTemperature(logitsT, probabilitiesT, temperature);

        AssertClose(probabilitiesT.ToArray(), Reference(rows, classes, logits, temperature), "probabilities");
        Assert.That(logitsT.ToArray(), Is.EqualTo(logits), "the logits must not be touched when probabilities is another tensor");
    }

    [TestCaseSource(nameof(DevicesAndCases))]
    public void InPlaceWritesTheProbabilitiesOverTheLogits(string deviceName, int rows, int classes, float temperature)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((rows * 10007) + classes + 1);
        var logits = Uniform(rng, rows * classes, 5);
        using var logitsT = device.FromArray(logits, rows, classes);

        Ops.SoftmaxWithTemperature(logitsT, logitsT, temperature);

        AssertClose(logitsT.ToArray(), Reference(rows, classes, logits, temperature), "probabilities (over logits)");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void HugeScaledLogitsStayFiniteAndRowsSumToOne(string deviceName)
    {
        // Logits of ±1e4 at T = 0.01 are ±1e6 once divided: a naive exp overflows, the max shift does not.
        var device = TestDevices.Get(deviceName);
        float[] logits = [1e4f, -1e4f, 0f, 9999f, -1e4f, -1e4f, -1e4f, -1e4f, 1e4f, 1e4f, 1e4f, 1e4f];
        using var logitsT = device.FromArray(logits, 3, 4);
        using var probabilitiesT = device.Zeros(3, 4);

        Ops.SoftmaxWithTemperature(logitsT, probabilitiesT, 0.01f);

        var probabilities = probabilitiesT.ToArray();
        Assert.That(probabilities.All(float.IsFinite), Is.True);
        AssertClose(probabilities, Reference(3, 4, logits, 0.01f), "probabilities");
        for (int r = 0; r < 3; r++)
        {
            Assert.That(probabilities.Skip(r * 4).Take(4).Sum(), Is.EqualTo(1f).Within(1e-6), $"row {r}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ATemperatureWhoseInverseOverflowsGivesTheArgmaxAsTheReferenceDoes(string deviceName)
    {
        // 1/1e-40 is +∞ in float; the float64 reference is still one-hot (two-hot, split, for a tie).
        var device = TestDevices.Get(deviceName);
        float[] logits = [0.5f, 3f, -2f, 2.999f, 1f, 1f, -1f, 0f];
        using var logitsT = device.FromArray(logits, 2, 4);
        using var probabilitiesT = device.Zeros(2, 4);

        Ops.SoftmaxWithTemperature(logitsT, probabilitiesT, 1e-40f);

        Assert.That(probabilitiesT.ToArray(), Is.EqualTo(new[] { 0f, 1f, 0f, 0f, 0.5f, 0.5f, 0f, 0f }));
        AssertClose(probabilitiesT.ToArray(), Reference(2, 4, logits, 1e-40f), "probabilities");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LowTemperatureSharpensAndHighTemperatureFlattens(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        float[] logits = [1f, 2f, 3f];
        using var logitsT = device.FromArray(logits, 1, 3);
        using var sharp = device.Zeros(1, 3);
        using var flat = device.Zeros(1, 3);

        Ops.SoftmaxWithTemperature(logitsT, sharp, 0.05f);
        Ops.SoftmaxWithTemperature(logitsT, flat, 1000f);

        // T = 0.05: e^−20 ≈ 2e-9 for the runner-up. T = 1000: every logit within 0.002 of the others.
        Assert.That(sharp.ToArray()[2], Is.EqualTo(1f).Within(1e-6));
        Assert.That(flat.ToArray(), Is.All.EqualTo(1f / 3).Within(1e-3));
    }

    [Test]
    public void ReferenceAtTemperatureOneIsExpOfMinusTheCrossEntropy()
    {
        // Two references that must agree: softmax(x)[t] = e^−loss(x, t).
        const int rows = 3, classes = 6;
        var logits = Widen(Uniform(new Random(4), rows * classes, 4));
        var probabilities = new double[logits.Length];
        ReferenceSoftmax.WithTemperature(rows, classes, logits, probabilities, 1.0);
        for (int t = 0; t < classes; t++)
        {
            var losses = new double[rows];
            ReferenceSoftmax.CrossEntropy(rows, classes, logits, [t, t, t], losses, new double[logits.Length], 1.0);
            for (int r = 0; r < rows; r++)
            {
                Assert.That(probabilities[(r * classes) + t], Is.EqualTo(Math.Exp(-losses[r])).Within(1e-14));
            }
        }
    }

    private static double[] Reference(int rows, int classes, float[] logits, float temperature)
    {
        var probabilities = new double[logits.Length];
        ReferenceSoftmax.WithTemperature(rows, classes, Widen(logits), probabilities, temperature);
        return probabilities;
    }
}
