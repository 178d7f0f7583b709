using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The fused GRU cell on every device against the float64 reference, and the reference backward against finite
/// differences of the reference forward. Tolerance as for the LSTM cell, |Δ| ≤ 1e-4 + 1e-4·|ref|: the reference gets the
/// same float32 inputs, so the only error is float32 arithmetic on O(1) values (a wrong gate order or formula is off by O(0.1)).
/// </summary>
public sealed class GruCellTests
{
    // (B, H): 1 and 7 take only the scalar tail; 33 = a pair of 16-lane registers + 1; 25 = 16 + 8 + 1 reaches the
    // Vector256 step, and 40 = a pair + 8 the Vector256 step after a pair.
    // 100 × 96 and 64 × 1100 are big enough for the cpu device to split the forward, and both passes, across threads.
    private static readonly (int Batch, int Hidden)[] Sizes = [(1, 1), (7, 7), (33, 33), (1, 33), (33, 7), (2, 25), (3, 40), (100, 96), (64, 1100)];

    private static IEnumerable<TestCaseData> DevicesAndSizes() =>
        from device in TestDevices.All
        from size in Sizes
        select new TestCaseData(device, size.Batch, size.Hidden).SetArgDisplayNames(device, $"B={size.Batch}", $"H={size.Hidden}");

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void ForwardMatchesReference(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((batch * 1000) + hidden);
        var (gi, gh, hPrev) = ForwardInputs(rng, batch, hidden);
        using var giT = device.FromArray(gi, batch, 3 * hidden);
        using var ghT = device.FromArray(gh, batch, 3 * hidden);
        using var hPrevT = device.FromArray(hPrev, batch, hidden);
        using var gatesT = device.Zeros(batch, 3 * hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.GruCellForward(giT, ghT, hPrevT, gatesT, hT);

        var (gates, h) = ReferenceForward(batch, hidden, gi, gh, hPrev);
        AssertClose(gatesT.ToArray(), gates, "gates");
        AssertClose(hT.ToArray(), h, "h");
        Assert.That(giT.ToArray(), Is.EqualTo(gi), "gi must not be touched when gates is another tensor");
        Assert.That(ghT.ToArray(), Is.EqualTo(gh), "gh must not be touched");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void ForwardInPlaceOverwritesTheInputProjectionWithTheGates(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((batch * 1000) + hidden + 1);
        var (gi, gh, hPrev) = ForwardInputs(rng, batch, hidden);
        using var giT = device.FromArray(gi, batch, 3 * hidden);
        using var ghT = device.FromArray(gh, batch, 3 * hidden);
        using var hPrevT = device.FromArray(hPrev, batch, hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.GruCellForward(giT, ghT, hPrevT, giT, hT);

        var (gates, h) = ReferenceForward(batch, hidden, gi, gh, hPrev);
        AssertClose(giT.ToArray(), gates, "gates (in place)");
        AssertClose(hT.ToArray(), h, "h");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void BackwardMatchesReference(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var inputs = BackwardInputs(batch, hidden, seed: (batch * 1000) + hidden + 2);
        using var gatesT = device.FromArray(inputs.Gates, batch, 3 * hidden);
        using var ghT = device.FromArray(inputs.Gh, batch, 3 * hidden);
        using var hPrevT = device.FromArray(inputs.HPrev, batch, hidden);
        using var dhT = device.FromArray(inputs.Dh, batch, hidden);
        using var dhNextT = device.FromArray(inputs.DhNext, batch, hidden);
        using var dgiT = device.Zeros(batch, 3 * hidden);
        using var dghT = device.Zeros(batch, 3 * hidden);
        using var dhPrevT = device.Zeros(batch, hidden);

        Ops.GruCellBackward(gatesT, ghT, hPrevT, dhT, dhNextT, dgiT, dghT, dhPrevT);

        var (dgi, dgh, dhPrev) = ReferenceBackward(batch, hidden, inputs);
        AssertClose(dgiT.ToArray(), dgi, "dgi");
        AssertClose(dghT.ToArray(), dgh, "dgh");
        AssertClose(dhPrevT.ToArray(), dhPrev, "dhPrev");
        Assert.That(dhNextT.ToArray(), Is.EqualTo(inputs.DhNext), "dhNext must not be touched when dhPrev is another tensor");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void BackwardInPlaceWritesOverGatesGhAndDhNext(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var inputs = BackwardInputs(batch, hidden, seed: (batch * 1000) + hidden + 3);
        using var gatesT = device.FromArray(inputs.Gates, batch, 3 * hidden);
        using var ghT = device.FromArray(inputs.Gh, batch, 3 * hidden);
        using var hPrevT = device.FromArray(inputs.HPrev, batch, hidden);
        using var dhT = device.FromArray(inputs.Dh, batch, hidden);
        using var carryT = device.FromArray(inputs.DhNext, batch, hidden);

        Ops.GruCellBackward(gatesT, ghT, hPrevT, dhT, carryT, gatesT, ghT, carryT);

        var (dgi, dgh, dhPrev) = ReferenceBackward(batch, hidden, inputs);
        AssertClose(gatesT.ToArray(), dgi, "dgi (over gates)");
        AssertClose(ghT.ToArray(), dgh, "dgh (over gh)");
        AssertClose(carryT.ToArray(), dhPrev, "dhPrev (over dhNext)");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SaturatedProjectionsGiveFiniteExactLimits(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int batch = 2, hidden = 17;
        var rng = new Random(7);
        float[] extremes = [1e4f, -1e4f, 100f, -100f, 89f, -89f, 0f];
        float[] Extremes(int n) => [.. Enumerable.Range(0, n).Select(_ => extremes[rng.Next(extremes.Length)])];
        var gi = Extremes(batch * 3 * hidden);
        var gh = Extremes(batch * 3 * hidden);
        var hPrev = Uniform(rng, batch * hidden, 1);
        using var giT = device.FromArray(gi, batch, 3 * hidden);
        using var ghT = device.FromArray(gh, batch, 3 * hidden);
        using var hPrevT = device.FromArray(hPrev, batch, hidden);
        using var gatesT = device.Zeros(batch, 3 * hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.GruCellForward(giT, ghT, hPrevT, gatesT, hT);

        var (gates, h) = ReferenceForward(batch, hidden, gi, gh, hPrev);
        var gatesOut = gatesT.ToArray();
        Assert.That(gatesOut.Concat(hT.ToArray()).All(float.IsFinite), Is.True, "σ and tanh of ±1e4 (and of 1e4 − 1e4·…) must be finite, not NaN");
        AssertClose(gatesOut, gates, "gates");
        AssertClose(hT.ToArray(), h, "h");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void GateOrderIsResetUpdateNewAsInPyTorch(string deviceName)
    {
        // Worked by hand, independent of the reference. Row 0: r = 1 (gi_r = 100), z = 0 (gi_z = −100), so
        // n = tanh(gi_n + gh_n) = tanh(0.25 + 0.25) and h = n. Row 1: r = 0 (the recurrent n term is dropped), z = 1:
        // h = hPrev = 3, n = tanh(0.5) whatever gh_n is.
        var device = TestDevices.Get(deviceName);
        using var giT = device.FromArray([100, -100, 0.25f, -100, 100, 0.5f], 2, 3);
        using var ghT = device.FromArray([0, 0, 0.25f, 0, 0, 7], 2, 3);
        using var hPrevT = device.FromArray([2, 3], 2, 1);
        using var gatesT = device.Zeros(2, 3);
        using var hT = device.Zeros(2, 1);

        Ops.GruCellForward(giT, ghT, hPrevT, gatesT, hT);

        AssertClose(gatesT.ToArray(), [1, 0, Math.Tanh(0.5), 0, 1, Math.Tanh(0.5)], "gates", 1e-6, 1e-6);
        AssertClose(hT.ToArray(), [Math.Tanh(0.5), 3], "h", 1e-6, 1e-6);
    }

    [Test]
    public void ReferenceBackwardMatchesCentralDifferencesOfTheReferenceForward()
    {
        // loss = Σ w·h, so ∂loss/∂h = w; split as dh + dhNext to check that both reach h.
        const int batch = 3, hidden = 5;
        const double step = 1e-6;
        var rng = new Random(11);
        var gi = Widen(Uniform(rng, batch * 3 * hidden, 2));
        var gh = Widen(Uniform(rng, batch * 3 * hidden, 2));
        var hPrev = Widen(Uniform(rng, batch * hidden, 1));
        var dh = Widen(Uniform(rng, batch * hidden, 1));
        var dhNext = Widen(Uniform(rng, batch * hidden, 1));
        var w = dh.Zip(dhNext, (a, b) => a + b).ToArray();

        var gates = new double[gi.Length];
        var h = new double[hPrev.Length];
        ReferenceGruCell.Forward(batch, hidden, gi, gh, hPrev, gates, h);
        var dgi = new double[gi.Length];
        var dgh = new double[gh.Length];
        var dhPrev = new double[hPrev.Length];
        ReferenceGruCell.Backward(batch, hidden, gates, gh, hPrev, dh, dhNext, dgi, dgh, dhPrev);

        double worst = 0;
        foreach (var (input, gradient) in new[] { (gi, dgi), (gh, dgh), (hPrev, dhPrev) })
        {
            for (int k = 0; k < input.Length; k++)
            {
                worst = Math.Max(worst, RelativeError(gradient[k], CentralDifference(input, k)));
            }
        }

        Assert.That(worst, Is.LessThan(1e-6));

        double CentralDifference(double[] input, int k)
        {
            double saved = input[k];
            input[k] = saved + step;
            var plus = Run();
            input[k] = saved - step;
            var minus = Run();
            input[k] = saved;
            double difference = 0;
            for (int i = 0; i < plus.Length; i++)
            {
                difference += w[i] * (plus[i] - minus[i]);
            }

            return difference / (2 * step);
        }

        double[] Run()
        {
            var g = new double[gi.Length];
            var hh = new double[hPrev.Length];
            ReferenceGruCell.Forward(batch, hidden, gi, gh, hPrev, g, hh);
            return hh;
        }
    }

    [Test]
    public void CpuKernelGivesTheSameBitsOnOneThreadAndOnMany()
    {
        const int batch = 64, hidden = 512;
        var rng = new Random(5);
        var (gi, gh, hPrev) = ForwardInputs(rng, batch, hidden);
        var dh = Uniform(rng, batch * hidden, 1);
        var results = new List<float[]>();
        foreach (int threads in new[] { 1, 4 })
        {
            var gates = new float[gi.Length];
            var h = new float[hPrev.Length];
            CpuGruCell.Forward(gi, gh, hPrev, gates, h, batch, hidden, threads, CpuKernelPlan.Machine.Width);
            var dgi = new float[gi.Length];
            var dgh = new float[gi.Length];
            var dhPrev = new float[hPrev.Length];
            CpuGruCell.Backward(gates, gh, hPrev, dh, h, dgi, dgh, dhPrev, batch, hidden, threads, CpuKernelPlan.Machine.Width);
            results.Add([.. gates, .. h, .. dgi, .. dgh, .. dhPrev]);
        }

        Assert.That(results[1].AsSpan().SequenceEqual(results[0]), Is.True, "the split across threads changed a result");
    }

    [Test]
    public void CpuKernelRejectsSpansThatAreTooShort()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuGruCell.Forward(new float[6], new float[5], new float[2], new float[6], new float[2], 2, 1, 1, CpuKernelPlan.Machine.Width));
        Assert.That(ex!.ParamName, Is.EqualTo("gh"));
    }

    [Test]
    public void OpsRejectsMismatchedShapesInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var gi = device.Zeros(2, 6);
        using var gh = device.Zeros(2, 4);
        using var hPrev = device.Zeros(2, 2);
        using var h = device.Zeros(2, 2);
        var ex = Assert.Throws<ArgumentException>(() => Ops.GruCellForward(gi, gh, hPrev, gi, h));
        Assert.That(ex!.Message, Does.Contain("GruCellForward shape mismatch"));
    }

    private static (float[] Gi, float[] Gh, float[] HPrev) ForwardInputs(Random rng, int batch, int hidden)
        => (Uniform(rng, batch * 3 * hidden, 3), Uniform(rng, batch * 3 * hidden, 3), Uniform(rng, batch * hidden, 1));

    private static (double[] Gates, double[] H) ReferenceForward(int batch, int hidden, float[] gi, float[] gh, float[] hPrev)
    {
        var gates = new double[gi.Length];
        var h = new double[hPrev.Length];
        ReferenceGruCell.Forward(batch, hidden, Widen(gi), Widen(gh), Widen(hPrev), gates, h);
        return (gates, h);
    }

    private static (double[] Dgi, double[] Dgh, double[] DhPrev) ReferenceBackward(int batch, int hidden, CellBackwardInputs inputs)
    {
        var dgi = new double[inputs.Gates.Length];
        var dgh = new double[inputs.Gates.Length];
        var dhPrev = new double[inputs.HPrev.Length];
        ReferenceGruCell.Backward(
            batch, hidden, Widen(inputs.Gates), Widen(inputs.Gh), Widen(inputs.HPrev), Widen(inputs.Dh), Widen(inputs.DhNext), dgi, dgh, dhPrev);
        return (dgi, dgh, dhPrev);
    }

    /// <summary>Saved values as a real forward pass leaves them (gates in range), rounded to float32.</summary>
    private static CellBackwardInputs BackwardInputs(int batch, int hidden, int seed)
    {
        var rng = new Random(seed);
        var (gi, gh, hPrev) = ForwardInputs(rng, batch, hidden);
        var (gates, _) = ReferenceForward(batch, hidden, gi, gh, hPrev);
        return new CellBackwardInputs(Array.ConvertAll(gates, v => (float)v), gh, hPrev, Uniform(rng, batch * hidden, 1), Uniform(rng, batch * hidden, 1));
    }

    private sealed record CellBackwardInputs(float[] Gates, float[] Gh, float[] HPrev, float[] Dh, float[] DhNext);
}
