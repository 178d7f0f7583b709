using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The fused LSTM cell on every device against the float64 reference, and the reference backward against
/// finite differences of the reference forward.
/// Tolerance for the kernels, |Δ| ≤ 2e-6 + 2e-6·|ref|: the reference gets the same float32 inputs, so the only
/// error is float32 arithmetic on O(1) values: exp to ~1 ulp, tanh as 1 − 2/(1+e^2x) to ~1e-7 absolute, and a
/// handful of products, all orders of magnitude inside the bound (a wrong gate order or formula is off by O(0.1)).
/// </summary>
public sealed class LstmCellTests
{
    // (B, H): 1 and 7 take only the scalar tail; 33 = a pair of 16-lane registers + 1; 25 = 16 + 8 + 1 reaches the
    // Vector256 step, and 40 = a pair + 8 the Vector256 step after a pair.
    // 100 × 96 (9,600 cells) and 64 × 1100 (70,400) are big enough for the cpu device to split the forward, and
    // both passes, across threads.
    private static readonly (int Batch, int Hidden)[] Sizes = [(1, 1), (7, 7), (33, 33), (1, 33), (33, 7), (2, 25), (3, 40), (100, 96), (64, 1100)];

    private static IEnumerable<TestCaseData> DevicesAndSizes() =>
        from device in TestDevices.All
        from size in Sizes
        select new TestCaseData(device, size.Batch, size.Hidden).SetArgDisplayNames(device, $"B={size.Batch}", $"H={size.Hidden}");

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void ForwardMatchesReference(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random(batch * 1000 + hidden);
        var pre = Uniform(rng, batch * 4 * hidden, 4);
        var cPrev = Uniform(rng, batch * hidden, 2);
        using var preT = device.FromArray(pre, batch, 4 * hidden);
        using var cPrevT = device.FromArray(cPrev, batch, hidden);
        using var gatesT = device.Zeros(batch, 4 * hidden);
        using var cT = device.Zeros(batch, hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.LstmCellForward(preT, cPrevT, gatesT, cT, hT);

        var (gates, c, h) = ReferenceForward(batch, hidden, pre, cPrev);
        AssertClose(gatesT.ToArray(), gates, "gates");
        AssertClose(cT.ToArray(), c, "c");
        AssertClose(hT.ToArray(), h, "h");
        Assert.That(preT.ToArray(), Is.EqualTo(pre), "the preactivations must not be touched when gates is another tensor");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void ForwardInPlaceOverwritesThePreactivationsWithTheGates(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random(batch * 1000 + hidden + 1);
        var pre = Uniform(rng, batch * 4 * hidden, 4);
        var cPrev = Uniform(rng, batch * hidden, 2);
        using var preT = device.FromArray(pre, batch, 4 * hidden);
        using var cPrevT = device.FromArray(cPrev, batch, hidden);
        using var cT = device.Zeros(batch, hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.LstmCellForward(preT, cPrevT, preT, cT, hT);

        var (gates, c, h) = ReferenceForward(batch, hidden, pre, cPrev);
        AssertClose(preT.ToArray(), gates, "gates (in place)");
        AssertClose(cT.ToArray(), c, "c");
        AssertClose(hT.ToArray(), h, "h");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ForwardMayWriteTheNewCellStateOverThePreviousOne(string deviceName)
    {
        // The kernels document c == cPrev as safe (each element reads cPrev before it writes c); a layer can then keep one c buffer.
        var device = TestDevices.Get(deviceName);
        const int batch = 3, hidden = 35;
        var rng = new Random(13);
        var pre = Uniform(rng, batch * 4 * hidden, 4);
        var cPrev = Uniform(rng, batch * hidden, 2);
        using var preT = device.FromArray(pre, batch, 4 * hidden);
        using var cT = device.FromArray(cPrev, batch, hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.LstmCellForward(preT, cT, preT, cT, hT);

        var (gates, c, h) = ReferenceForward(batch, hidden, pre, cPrev);
        AssertClose(preT.ToArray(), gates, "gates");
        AssertClose(cT.ToArray(), c, "c (over cPrev)");
        AssertClose(hT.ToArray(), h, "h");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void BackwardMatchesReference(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var inputs = BackwardInputs(batch, hidden, seed: batch * 1000 + hidden + 2);
        using var gatesT = device.FromArray(inputs.Gates, batch, 4 * hidden);
        using var cT = device.FromArray(inputs.C, batch, hidden);
        using var cPrevT = device.FromArray(inputs.CPrev, batch, hidden);
        using var dhT = device.FromArray(inputs.Dh, batch, hidden);
        using var dcNextT = device.FromArray(inputs.DcNext, batch, hidden);
        using var dPreT = device.Zeros(batch, 4 * hidden);
        using var dcPrevT = device.Zeros(batch, hidden);

        Ops.LstmCellBackward(gatesT, cT, cPrevT, dhT, dcNextT, dPreT, dcPrevT);

        var (dPre, dcPrev) = ReferenceBackward(batch, hidden, inputs);
        AssertClose(dPreT.ToArray(), dPre, "dPreactivations");
        AssertClose(dcPrevT.ToArray(), dcPrev, "dcPrev");
        Assert.That(dcNextT.ToArray(), Is.EqualTo(inputs.DcNext), "dcNext must not be touched when dcPrev is another tensor");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void BackwardInPlaceWritesDcPrevOverDcNextAndDPreOverGates(string deviceName, int batch, int hidden)
    {
        var device = TestDevices.Get(deviceName);
        var inputs = BackwardInputs(batch, hidden, seed: batch * 1000 + hidden + 3);
        using var gatesT = device.FromArray(inputs.Gates, batch, 4 * hidden);
        using var cT = device.FromArray(inputs.C, batch, hidden);
        using var cPrevT = device.FromArray(inputs.CPrev, batch, hidden);
        using var dhT = device.FromArray(inputs.Dh, batch, hidden);
        using var dcT = device.FromArray(inputs.DcNext, batch, hidden);

        Ops.LstmCellBackward(gatesT, cT, cPrevT, dhT, dcT, gatesT, dcT);

        var (dPre, dcPrev) = ReferenceBackward(batch, hidden, inputs);
        AssertClose(gatesT.ToArray(), dPre, "dPreactivations (over gates)");
        AssertClose(dcT.ToArray(), dcPrev, "dcPrev (over dcNext)");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SaturatedPreactivationsGiveFiniteExactLimits(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        const int batch = 2, hidden = 17;
        var rng = new Random(7);
        float[] extremes = [1e4f, -1e4f, 100f, -100f, 89f, -89f, 0f];
        var pre = new float[batch * 4 * hidden];
        for (int i = 0; i < pre.Length; i++)
        {
            pre[i] = extremes[rng.Next(extremes.Length)];
        }

        var cPrev = Uniform(rng, batch * hidden, 50);
        using var preT = device.FromArray(pre, batch, 4 * hidden);
        using var cPrevT = device.FromArray(cPrev, batch, hidden);
        using var gatesT = device.Zeros(batch, 4 * hidden);
        using var cT = device.Zeros(batch, hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.LstmCellForward(preT, cPrevT, gatesT, cT, hT);

        var (gates, c, h) = ReferenceForward(batch, hidden, pre, cPrev);
        var gatesOut = gatesT.ToArray();
        Assert.That(gatesOut.Concat(cT.ToArray()).Concat(hT.ToArray()).All(float.IsFinite), Is.True, "σ and tanh of ±1e4 must be finite, not NaN");
        AssertClose(gatesOut, gates, "gates");
        AssertClose(cT.ToArray(), c, "c");
        AssertClose(hT.ToArray(), h, "h");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void GateOrderIsInputForgetCellOutputAsInPyTorch(string deviceName)
    {
        // Worked by hand, independent of the reference; every gate gets its own preactivation, so any permutation of
        // the four gates changes the result. Row 0: i = σ(0.5), f = σ(−0.5), g = tanh(1), o = σ(2), c = f·cPrev + i·g,
        // h = o·tanh(c). Row 1: i = 1, f = 0 (forgets cPrev = 3), g = tanh(−100) = −1, o = σ(−1): c = −1, h = σ(−1)·tanh(−1).
        var device = TestDevices.Get(deviceName);
        using var preT = device.FromArray([0.5f, -0.5f, 1, 2, 100, -100, -100, -1], 2, 4);
        using var cPrevT = device.FromArray([1, 3], 2, 1);
        using var gatesT = device.Zeros(2, 4);
        using var cT = device.Zeros(2, 1);
        using var hT = device.Zeros(2, 1);

        Ops.LstmCellForward(preT, cPrevT, gatesT, cT, hT);

        static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
        double c0 = (Sigmoid(-0.5) * 1) + (Sigmoid(0.5) * Math.Tanh(1));
        AssertClose(gatesT.ToArray(), [Sigmoid(0.5), Sigmoid(-0.5), Math.Tanh(1), Sigmoid(2), 1, 0, -1, Sigmoid(-1)], "gates", 1e-6, 1e-6);
        AssertClose(cT.ToArray(), [c0, -1], "c", 1e-6, 1e-6);
        AssertClose(hT.ToArray(), [Sigmoid(2) * Math.Tanh(c0), Sigmoid(-1) * Math.Tanh(-1)], "h", 1e-6, 1e-6);
    }

    [Test]
    public void ReferenceBackwardMatchesCentralDifferencesOfTheReferenceForward()
    {
        // loss = Σ wh·h + Σ wc·c, so ∂loss/∂h = wh and ∂loss/∂c (from the next step) = wc.
        const int batch = 3, hidden = 5;
        const double step = 1e-6;
        var rng = new Random(11);
        var pre = Widen(Uniform(rng, batch * 4 * hidden, 2));
        var cPrev = Widen(Uniform(rng, batch * hidden, 1.5));
        var wh = Widen(Uniform(rng, batch * hidden, 1));
        var wc = Widen(Uniform(rng, batch * hidden, 1));

        var gates = new double[pre.Length];
        var c = new double[cPrev.Length];
        var h = new double[cPrev.Length];
        ReferenceLstmCell.Forward(batch, hidden, pre, cPrev, gates, c, h);
        var dPre = new double[pre.Length];
        var dcPrev = new double[cPrev.Length];
        ReferenceLstmCell.Backward(batch, hidden, gates, c, cPrev, wh, wc, dPre, dcPrev);

        double worst = 0;
        for (int k = 0; k < pre.Length; k++)
        {
            worst = Math.Max(worst, RelativeError(dPre[k], CentralDifference(pre, k)));
        }

        for (int k = 0; k < cPrev.Length; k++)
        {
            worst = Math.Max(worst, RelativeError(dcPrev[k], CentralDifference(cPrev, k)));
        }

        Assert.That(worst, Is.LessThan(1e-6));

        double CentralDifference(double[] input, int k)
        {
            double saved = input[k];
            input[k] = saved + step;
            var (hPlus, cPlus) = Run();
            input[k] = saved - step;
            var (hMinus, cMinus) = Run();
            input[k] = saved;

            // Σ w·(plus − minus) rather than loss(plus) − loss(minus): the untouched elements contribute exact zeros
            // instead of the rounding error of a large sum, which keeps small gradients inside the 1e-6 bound.
            double difference = 0;
            for (int i = 0; i < hPlus.Length; i++)
            {
                difference += (wh[i] * (hPlus[i] - hMinus[i])) + (wc[i] * (cPlus[i] - cMinus[i]));
            }

            return difference / (2 * step);
        }

        (double[] H, double[] C) Run()
        {
            var g = new double[pre.Length];
            var cc = new double[cPrev.Length];
            var hh = new double[cPrev.Length];
            ReferenceLstmCell.Forward(batch, hidden, pre, cPrev, g, cc, hh);
            return (hh, cc);
        }
    }

    [Test]
    public void CpuKernelGivesTheSameBitsOnOneThreadAndOnMany()
    {
        // 64·512 elements: big enough that the kernel splits the rows across threads.
        const int batch = 64, hidden = 512;
        var rng = new Random(5);
        var pre = Uniform(rng, batch * 4 * hidden, 4);
        var cPrev = Uniform(rng, batch * hidden, 2);
        var results = new List<float[]>();
        foreach (int threads in new[] { 1, 4 })
        {
            var gates = new float[pre.Length];
            var c = new float[cPrev.Length];
            var h = new float[cPrev.Length];
            CpuLstmCell.Forward(pre, cPrev, gates, c, h, batch, hidden, threads, CpuKernelPlan.Machine.Width);
            var dPre = new float[pre.Length];
            var dcPrev = new float[cPrev.Length];
            CpuLstmCell.Backward(gates, c, cPrev, h, cPrev, dPre, dcPrev, batch, hidden, threads, CpuKernelPlan.Machine.Width);
            results.Add([.. gates, .. c, .. h, .. dPre, .. dcPrev]);
        }

        // SequenceEqual rather than NUnit's element-by-element collection comparer, which is slow on 300k floats.
        Assert.That(results[1].AsSpan().SequenceEqual(results[0]), Is.True, "the split across threads changed a result");
    }

    [Test]
    public void CpuDeviceMatchesReferenceAtTrainingSize()
    {
        // B = 100, H = 256 as in training, through the backend (all cores) and past the parallel threshold.
        var device = TestDevices.Get("cpu");
        const int batch = 100, hidden = 256;
        var rng = new Random(9);
        var pre = Uniform(rng, batch * 4 * hidden, 4);
        var cPrev = Uniform(rng, batch * hidden, 2);
        using var preT = device.FromArray(pre, batch, 4 * hidden);
        using var cPrevT = device.FromArray(cPrev, batch, hidden);
        using var cT = device.Zeros(batch, hidden);
        using var hT = device.Zeros(batch, hidden);

        Ops.LstmCellForward(preT, cPrevT, preT, cT, hT);

        var (gates, c, h) = ReferenceForward(batch, hidden, pre, cPrev);
        AssertClose(preT.ToArray(), gates, "gates");
        AssertClose(cT.ToArray(), c, "c");
        AssertClose(hT.ToArray(), h, "h");
    }

    /// <summary>The cell at each register width the machine runs (Vector128 is ARM64's fast path, checked here on x86).</summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuKernelMatchesTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);

        foreach (var (batch, hidden) in Sizes)
        {
            var rng = new Random(11 + hidden);
            var pre = Uniform(rng, batch * 4 * hidden, 4);
            var cPrev = Uniform(rng, batch * hidden, 2);
            var gates = new float[pre.Length];
            var c = new float[cPrev.Length];
            var h = new float[cPrev.Length];
            CpuLstmCell.Forward(pre, cPrev, gates, c, h, batch, hidden, 2, width);
            var (refGates, refC, refH) = ReferenceForward(batch, hidden, pre, cPrev);
            AssertClose(gates, refGates, $"{width} gates {batch}x{hidden}");
            AssertClose(c, refC, $"{width} c {batch}x{hidden}");
            AssertClose(h, refH, $"{width} h {batch}x{hidden}");

            var inputs = BackwardInputs(batch, hidden, 13 + hidden);
            var dPre = new float[inputs.Gates.Length];
            var dcPrev = new float[inputs.C.Length];
            CpuLstmCell.Backward(inputs.Gates, inputs.C, inputs.CPrev, inputs.Dh, inputs.DcNext, dPre, dcPrev, batch, hidden, 2, width);
            var (refDPre, refDcPrev) = ReferenceBackward(batch, hidden, inputs);
            AssertClose(dPre, refDPre, $"{width} dPre {batch}x{hidden}");
            AssertClose(dcPrev, refDcPrev, $"{width} dcPrev {batch}x{hidden}");
        }
    }

    [Test]
    public void CpuKernelRejectsSpansThatAreTooShort()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuLstmCell.Forward(new float[7], new float[2], new float[8], new float[2], new float[2], 2, 1, 1, CpuKernelPlan.Machine.Width));
        Assert.That(ex!.ParamName, Is.EqualTo("preactivations"));
    }

    private static (double[] Gates, double[] C, double[] H) ReferenceForward(int batch, int hidden, float[] pre, float[] cPrev)
    {
        var gates = new double[pre.Length];
        var c = new double[cPrev.Length];
        var h = new double[cPrev.Length];
        ReferenceLstmCell.Forward(batch, hidden, Widen(pre), Widen(cPrev), gates, c, h);
        return (gates, c, h);
    }

    private static (double[] DPre, double[] DcPrev) ReferenceBackward(int batch, int hidden, CellBackwardInputs inputs)
    {
        var dPre = new double[inputs.Gates.Length];
        var dcPrev = new double[inputs.C.Length];
        ReferenceLstmCell.Backward(
            batch, hidden, Widen(inputs.Gates), Widen(inputs.C), Widen(inputs.CPrev), Widen(inputs.Dh), Widen(inputs.DcNext), dPre, dcPrev);
        return (dPre, dcPrev);
    }

    /// <summary>Saved values as a real forward pass leaves them (gates in range, c consistent), rounded to float32.</summary>
    private static CellBackwardInputs BackwardInputs(int batch, int hidden, int seed)
    {
        var rng = new Random(seed);
        var pre = Uniform(rng, batch * 4 * hidden, 4);
        var cPrev = Uniform(rng, batch * hidden, 2);
        var (gates, c, _) = ReferenceForward(batch, hidden, pre, cPrev);
        return new CellBackwardInputs(
            Array.ConvertAll(gates, v => (float)v), Array.ConvertAll(c, v => (float)v), cPrev, Uniform(rng, batch * hidden, 1), Uniform(rng, batch * hidden, 1));
    }

    private sealed record CellBackwardInputs(float[] Gates, float[] C, float[] CPrev, float[] Dh, float[] DcNext);
}
