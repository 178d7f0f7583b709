using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// L1Loss, SmoothL1Loss, HuberLoss and BceWithLogitsLoss against PyTorch 1.13 (scripts/make_value_loss_fixtures.py;
/// tolerances as <see cref="ModuleTorchParityTests"/>: 1e-5 relative on losses, 1e-4 on gradients), their refusals,
/// their shapes, and their steady-state Forward, which allocates nothing.
/// </summary>
public sealed class ValueLossTests
{
    /// <summary>The fixture's cases: its name, the inputs it reads ("reg" or "bce" rows), and the loss for a reduction.</summary>
    private static readonly Dictionary<string, (string Inputs, Func<Reduction, Tensor?, ILoss<Tensor>> Create)> Cases = new()
    {
        ["l1"] = ("reg", (r, _) => new L1Loss(r)),
        ["smooth_l1"] = ("reg", (r, _) => new SmoothL1Loss(r)),
        ["smooth_l1.beta0.5"] = ("reg", (r, _) => new SmoothL1Loss(r, beta: 0.5f)),
        ["smooth_l1.beta0"] = ("reg", (r, _) => new SmoothL1Loss(r, beta: 0f)),
        ["huber"] = ("reg", (r, _) => new HuberLoss(r)),
        ["huber.delta0.5"] = ("reg", (r, _) => new HuberLoss(r, delta: 0.5f)),
        ["bce"] = ("bce", (r, _) => new BceWithLogitsLoss(r)),
        ["bce.pos_weight"] = ("bce", (r, w) => new BceWithLogitsLoss(r, w)),
        ["bce.pos_weight1"] = ("bce", (r, w) => new BceWithLogitsLoss(r, w)),
        ["bce_rows"] = ("bce_rows", (r, _) => new BceWithLogitsLoss(r)),
        ["bce_rows.pos_weight"] = ("bce_rows", (r, w) => new BceWithLogitsLoss(r, w)),
    };

    private static IEnumerable<TestCaseData> DevicesAndCases() =>
        from device in TestDevices.All
        from name in Cases.Keys
        select new TestCaseData(device, name);

    [TestCaseSource(nameof(DevicesAndCases))]
    public void MatchesPyTorchForMeanAndSum(string deviceName, string name)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/value_losses.safetensors"));
        var (inputs, create) = Cases[name];
        int[] shape = [.. fixture[$"{inputs}.x"].Shape];
        using var x = device.FromArray(fixture[$"{inputs}.x"].Data, shape);
        using var y = device.FromArray(fixture[$"{inputs}.y"].Data, shape);
        string weightName = name == "bce.pos_weight1" ? name : "bce.pos_weight";
        using var posWeight = device.FromArray(fixture[weightName].Data, [.. fixture[weightName].Shape]);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            string r = reduction == Reduction.Mean ? "mean" : "sum";
            using var loss = create(reduction, posWeight);
            double expected = fixture[$"{name}.{r}"].Data[0];
            Assert.That(loss.Forward(x, y), Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), r);
            Assert.That(loss.Backward().Shape, Is.EqualTo(shape), "the gradient is shaped as the prediction");
            ModuleTorchParityTests.AssertClose(loss.Backward().ToArray(), fixture[$"{name}.grad_{r}"].Data, 1e-4, $"grad_{r}");
        }
    }

    [Test]
    public void PyTorchsDefaultsAreTheDefaults()
    {
        using var smooth = new SmoothL1Loss();
        using var huber = new HuberLoss();
        using var bce = new BceWithLogitsLoss();
        using var l1 = new L1Loss();
        Assert.Multiple(() =>
        {
            Assert.That(smooth.Beta, Is.EqualTo(1f));
            Assert.That(huber.Delta, Is.EqualTo(1f));
            Assert.That(bce.PosWeight, Is.Null);
            Assert.That(new[] { smooth.Reduction, huber.Reduction, bce.Reduction, l1.Reduction }, Is.All.EqualTo(Reduction.Mean));
        });
    }

    [TestCase(-1f)]
    [TestCase(-1e-7f)]
    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void ANegativeOrNonFiniteBetaIsRefusedInOneLine(float beta)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SmoothL1Loss(beta: beta))!;
        Assert.That(error.Message, Does.StartWith($"SmoothL1Loss needs a finite beta ≥ 0; got {beta}."));
        Assert.That(error.Message, Does.Not.Contain('\n'));
    }

    [TestCase(0f)]
    [TestCase(-0.5f)]
    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void ADeltaThatIsNotPositiveAndFiniteIsRefusedInOneLine(float delta)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new HuberLoss(delta: delta))!;
        Assert.That(error.Message, Does.StartWith($"HuberLoss needs a finite delta > 0; got {delta}."));
        Assert.That(error.Message, Does.Not.Contain('\n'));
    }

    [TestCase(new[] { 2 }, "[2]")]
    [TestCase(new[] { 4 }, "[4]")]
    [TestCase(new[] { 12 }, "[12]")]
    [TestCase(new[] { 3, 1 }, "[3, 1]")]
    [TestCase(new[] { 1, 2 }, "[1, 2]")]
    public void APosWeightNotShapedOnePerClassIsRefusedInOneLineAndLosesNothing(int[] shape, string shapeText)
    {
        var device = TestDevices.Get("cpu");
        using var good = device.FromArray([1f, 2f, 3f], 1, 3);
        using var bad = device.Zeros(shape);
        using var x = device.FromArray([0.5f, -1f, 2f, 0f, 1f, -3f, 4f, 0.25f, -0.5f, 1.5f, -2f, 3f], 2, 2, 3);
        using var y = device.FromArray([1f, 0f, 0.5f, 1f, 0.25f, 0f, 1f, 1f, 0f, 0.75f, 0f, 1f], 2, 2, 3);
        using var loss = new BceWithLogitsLoss(posWeight: bad);
        var error = Assert.Throws<ArgumentException>(() => loss.Forward(x, y))!;
        Assert.That(error.Message, Does.StartWith($"BCE-with-logits loss needs a pos_weight of one value per class, shaped [3] for the prediction [2, 2, 3], or one value for every class, shaped [1]; got {shapeText}."));
        Assert.That(error.Message, Does.Not.Contain('\n'));

        using var accepted = new BceWithLogitsLoss(posWeight: good);
        double value = accepted.Forward(x, y);
        var gradient = accepted.Backward().ToArray();
        using var refusing = new BceWithLogitsLoss(posWeight: bad);
        Assert.Throws<ArgumentException>(() => refusing.Forward(x, y));
        Assert.That(accepted.Forward(x, y), Is.EqualTo(value));
        Assert.That(accepted.Backward().ToArray(), Is.EqualTo(gradient));
    }

    /// <summary>PyTorch 1.13's gradients for x = [1, −1, 0] and y = [+∞, −∞, +∞] without pos_weight: σ(x) − y.</summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void InfiniteTargetsGivePyTorchsInfiniteGradients(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var x = device.FromArray([1f, -1f, 0f], 1, 3);
        using var y = device.FromArray([float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity], 1, 3);
        using var loss = new BceWithLogitsLoss(Reduction.Sum);
        loss.Forward(x, y);
        Assert.That(loss.Backward().ToArray(), Is.EqualTo(new[] { float.NegativeInfinity, float.PositiveInfinity, float.NegativeInfinity }));
    }

    /// <summary>
    /// PyTorch 1.13: with an explicit pos_weight of 1 an infinite target's gradient is NaN (w = 1 + 0·∞), unlike
    /// without one; and MSE's mean gradient is (2/n)·d, finite where 2d would overflow (x = 3e38: 1.5e38 for n = 4).
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ExtremeValuesGivePyTorchsGradients(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var logits = device.FromArray([0.5f, -0.5f], 1, 2);
        using var targets = device.FromArray([float.PositiveInfinity, 0.5f], 1, 2);
        using var ones = device.FromArray([1f, 1f], 2);
        using var bce = new BceWithLogitsLoss(Reduction.Sum, ones);
        bce.Forward(logits, targets);
        var g = bce.Backward().ToArray();
        Assert.That(g[0], Is.NaN, "pos_weight 1, infinite target");
        Assert.That(g[1], Is.EqualTo((1f / (1f + MathF.Exp(0.5f))) - 0.5f).Within(1e-7f), "σ(−0.5) − 0.5");

        using var x = device.FromArray([3e38f, 1f, 2f, 3f], 4);
        using var zeros = device.Zeros(4);
        using var mse = new MseLoss();
        mse.Forward(x, zeros);
        Assert.That(mse.Backward().ToArray(), Is.EqualTo(new[] { 1.5e38f, 0.5f, 1f, 1.5f }).Within(1e-6).Percent);
    }

    /// <summary>As PyTorch's: no elements sum to 0 and average to NaN, also with a pos_weight of no classes.</summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void NoElementsSumToZeroAndAverageToNaN(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var x = device.Zeros(3, 0);
        using var y = device.Zeros(3, 0);
        using var posWeight = device.Zeros(0);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            using var l1 = new L1Loss(reduction);
            using var smooth = new SmoothL1Loss(reduction);
            using var huber = new HuberLoss(reduction);
            using var bce = new BceWithLogitsLoss(reduction, posWeight);
            foreach (var loss in new ElementwiseLoss[] { l1, smooth, huber, bce })
            {
                double value = loss.Forward(x, y);
                Assert.That(value, reduction == Reduction.Sum ? Is.EqualTo(0.0) : Is.NaN, $"{loss.GetType().Name}, {reduction}");
                Assert.That(loss.Backward().Length, Is.EqualTo(0));
            }
        }
    }

    [Test]
    public void APosWeightOnAnotherDeviceIsRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var other = Device.Create("cpu");
        using var posWeight = other.FromArray([1f, 2f, 3f], 3);
        using var x = device.FromArray([0.5f, -1f, 2f], 1, 3);
        using var y = device.FromArray([1f, 0f, 0.5f], 1, 3);
        using var loss = new BceWithLogitsLoss(posWeight: posWeight);
        var error = Assert.Throws<ArgumentException>(() => loss.Forward(x, y))!;
        Assert.That(error.Message, Does.Contain("pos_weight [3] is on another cpu device (a separate Device instance)"));
        Assert.That(error.Message, Does.Not.Contain('\n'));
    }

    private static IEnumerable<TestCaseData> Losses() =>
        from name in new[] { "L1Loss", "SmoothL1Loss", "HuberLoss", "BceWithLogitsLoss" }
        select new TestCaseData(name);

    private static ILoss<Tensor> Create(string name) => name switch
    {
        "L1Loss" => new L1Loss(),
        "SmoothL1Loss" => new SmoothL1Loss(),
        "HuberLoss" => new HuberLoss(),
        _ => new BceWithLogitsLoss(),
    };

    [TestCaseSource(nameof(Losses))]
    public void PairsShapesThatDifferOnlyInAxesOfSizeOneAndRefusesOthersInOneLine(string name)
    {
        var device = TestDevices.Get("cpu");
        using var loss = Create(name);
        using var column = device.FromArray([0.25f, 0.5f, 3f], 3, 1);
        using var flat = device.FromArray([0f, 1f, 0.5f], 3);
        double paired = loss.Forward(column, flat);
        Assert.That(loss.Backward().ShapeText, Is.EqualTo(column.ShapeText));
        using var flatPrediction = device.FromArray([0.25f, 0.5f, 3f], 3);
        Assert.That(loss.Forward(flatPrediction, flat), Is.EqualTo(paired), "[3, 1] against [3] pairs element by element, no broadcast");

        using var wide = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var tall = device.FromArray([1f, 0f, 1f, 0f, 1f, 0f], 3, 2);
        var error = Assert.Throws<ArgumentException>(() => loss.Forward(wide, tall))!;
        Assert.That(error.Message, Does.Contain("needs a target shaped as the prediction [2, 3]; got [3, 2]."));
        Assert.That(error.Message, Does.Not.Contain('\n'));
    }

    [TestCaseSource(nameof(Losses))]
    public void BackwardBeforeForwardIsRefused(string name)
    {
        using var loss = Create(name);
        Assert.That(Assert.Throws<InvalidOperationException>(() => loss.Backward())!.Message, Is.EqualTo($"{name}.Backward was called before Forward."));
    }

    [TestCaseSource(nameof(Losses))]
    public void ASteadyStateForwardAllocatesNothing(string name)
    {
        var device = TestDevices.Get("cpu");
        using var posWeight = device.FromArray([0.5f, 2f, 1.5f, 3f], 4);
        using var loss = name == "BceWithLogitsLoss" ? new BceWithLogitsLoss(posWeight: posWeight) : Create(name);
        var random = new Random(3);
        using var x = device.FromArray([.. Enumerable.Range(0, 64 * 4).Select(_ => random.NextSingle() - 0.5f)], 8, 8, 4);
        using var y = device.FromArray([.. Enumerable.Range(0, 64 * 4).Select(_ => random.NextSingle())], 8, 8, 4);
        loss.Forward(x, y);
        loss.Backward();

        long before = GC.GetAllocatedBytesForCurrentThread();
        loss.Forward(x, y);
        loss.Backward();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "managed bytes allocated by a Forward and Backward");
    }
}
