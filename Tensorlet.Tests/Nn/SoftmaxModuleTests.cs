using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// LogSoftmax, Softmax and NllLoss against PyTorch 1.13 (fixtures written by scripts/make_nll_fixtures.py; see its
/// header) at the tolerances of <see cref="ModuleTorchParityTests"/>, on rank-2 and rank-3 input and at the edges of
/// float32, and NllLoss's bad input refused in one line. Their gradients against central finite differences are in <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class SoftmaxModuleTests
{
    private static readonly Dictionary<string, int[]> Shapes = new() { ["r2"] = [4, 5], ["r3"] = [2, 3, 5] };

    private static IEnumerable<TestCaseData> DevicesRanksAndModules() =>
        from device in TestDevices.All
        from rank in Shapes.Keys
        from module in new[] { "log_softmax", "softmax" }
        select new TestCaseData(device, rank, module);

    private static IEnumerable<TestCaseData> DevicesAndRanks() =>
        from device in TestDevices.All
        from rank in Shapes.Keys
        select new TestCaseData(device, rank);

    [TestCaseSource(nameof(DevicesRanksAndModules))]
    public void ForwardAndInputGradientMatchPyTorch(string deviceName, string rank, string module)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/nll.safetensors"));
        var shape = Shapes[rank];
        using SoftmaxModule softmax = module == "log_softmax" ? new LogSoftmax() : new Softmax();
        using var x = device.FromArray(fixture[$"{rank}.x"].Data, shape);
        using var g = device.FromArray(fixture[$"{rank}.g"].Data, shape);

        var y = softmax.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(shape), "y is shaped as x");
        ModuleTorchParityTests.AssertClose(y.ToArray(), fixture[$"{rank}.{module}"].Data, 1e-5, module);
        var dx = softmax.Backward(g);
        Assert.That(dx.Shape, Is.EqualTo(shape), "dx is shaped as x");
        ModuleTorchParityTests.AssertClose(dx.ToArray(), fixture[$"{rank}.{module}.grad_x"].Data, 1e-4, $"{module}.grad_x");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LogSoftmaxMatchesPyTorchOnLogitsOfLargeMagnitude(string deviceName)
    {
        // Rows near 1e4, near 1e6 and [3e38, 3e38, −3e38, 0], where log Σ is far from 0 next to a large maximum;
        // −∞ where PyTorch has it.
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/nll_edges.safetensors"));
        using var softmax = new LogSoftmax();
        using var x = device.FromArray(fixture["large.x"].Data, 3, 4);
        using var g = device.FromArray(fixture["large.g"].Data, 3, 4);

        ModuleTorchParityTests.AssertClose(softmax.Forward(x).ToArray(), fixture["large.log_softmax"].Data, 1e-5, "log_softmax");
        ModuleTorchParityTests.AssertClose(softmax.Backward(g).ToArray(), fixture["large.log_softmax.grad_x"].Data, 1e-4, "log_softmax.grad_x");
    }

    [TestCaseSource(nameof(DevicesAndRanks))]
    public void NllLossMatchesPyTorchForMeanSumAndEachRowWithAnIgnoredTarget(string deviceName, string rank)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/nll.safetensors"));
        var shape = Shapes[rank];
        using var logProbabilities = device.FromArray(fixture[$"{rank}.log_softmax"].Data, shape);
        using var targets = device.IndexFromArray(fixture[$"{rank}.target"].ToInt32Array(), shape[..^1]);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            string name = reduction == Reduction.Mean ? "mean" : "sum";
            using var loss = new NllLoss(reduction);
            double expected = fixture[$"{rank}.nll.{name}"].Data[0];
            Assert.That(loss.Forward(logProbabilities, targets), Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), name);
            Assert.That(loss.CountedRows, Is.EqualTo(fixture[$"{rank}.target"].ToInt32Array().Count(t => t != -100)), "the ignored target does not count");
            Assert.That(loss.Backward().Shape, Is.EqualTo(shape), "the gradient is shaped as the input");
            ModuleTorchParityTests.AssertClose(loss.Backward().ToArray(), fixture[$"{rank}.nll.grad_{name}"].Data, 1e-4, $"grad_{name}");
        }

        // reduction='none' is the per-row losses, which ForwardRows gives (0 at the ignored row), as in PyTorch.
        using var rows = new NllLoss();
        ModuleTorchParityTests.AssertClose(rows.ForwardRows(logProbabilities, targets).ToArray(), fixture[$"{rank}.nll.none"].Data, 1e-5, "none");
    }

    /// <summary>Every device with each class-id loss, "nll" and "ce".</summary>
    internal static IEnumerable<TestCaseData> DevicesAndClassIdLosses() =>
        from device in TestDevices.All
        from loss in new[] { "nll", "ce" }
        select new TestCaseData(device, loss);

    [TestCaseSource(nameof(DevicesAndClassIdLosses))]
    public void IgnoredRowsHoldingNonFiniteValuesMatchPyTorch(string deviceName, string lossName)
    {
        // Ignored rows holding −∞, NaN and +∞ add 0 to the loss, as in PyTorch (a multiply by 0 gave NaN); their
        // gradient is 0 for NllLoss, and PyTorch's 0 − softmax·0 for CrossEntropyLoss: NaN where the softmax is NaN.
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/nll_edges.safetensors"));
        using var x = device.FromArray(fixture["ignored.x"].Data, 4, 3);
        using var targets = device.IndexFromArray(fixture["ignored.target"].ToInt32Array(), 4);
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            string name = reduction == Reduction.Mean ? "mean" : "sum";
            using ClassIdLoss loss = lossName == "nll" ? new NllLoss(reduction) : new CrossEntropyLoss(reduction);
            double expected = fixture[$"ignored.{lossName}.{name}"].Data[0];
            Assert.That(loss.Forward(x, targets), Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), name);
            ModuleTorchParityTests.AssertClose(loss.Backward().ToArray(), fixture[$"ignored.{lossName}.grad_{name}"].Data, 1e-4, $"grad_{name}");
            ModuleTorchParityTests.AssertClose(loss.RowLosses.ToArray(), fixture[$"ignored.{lossName}.none"].Data, 1e-5, "none");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ASequentialEndingInLogSoftmaxTrainedWithNllLossMatchesPyTorchAfterThreeAdamSteps(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/nll.safetensors"));
        using var model = new Sequential(new Linear(4, 8), new Tanh(), new Linear(8, 5), new LogSoftmax());
        model.Build(device);
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[$"model.{p.Name}"].Data)));
        using var x = device.FromArray(fixture["model.x"].Data, 2, 3, 4);
        using var y = device.IndexFromArray(fixture["model.target"].ToInt32Array(), 2, 3);
        using var loss = new NllLoss();
        double expected = fixture["model.loss"].Data[0];
        Assert.That(loss.Forward(model.Forward(x), y), Is.EqualTo(expected).Within(1e-5 * expected), "the initial loss");

        using var adam = new Adam(model.Parameters, 0.01f);
        ModuleTorchParityTests.AssertThreeStepsMatch(model, adam, () =>
        {
            loss.Forward(model.Forward(x), y);
            model.Backward(loss.Backward());
        }, fixture, "adam3");
    }

    private static IEnumerable<TestCaseData> DevicesAndBadTargets() =>
        from device in TestDevices.All
        from bad in new[] { -1, 5 }
        select new TestCaseData(device, bad).SetArgDisplayNames(device, $"target={bad}");

    [TestCaseSource(nameof(DevicesAndBadTargets))]
    public void ClassIdLossesRefuseATargetOutsideTheClassesInOneLine(string deviceName, int bad)
    {
        var device = TestDevices.Get(deviceName);
        using var input = device.FromArray(new float[2 * 3 * 5], 2, 3, 5);

        // With and without an ignored target, which has the targets read back to be checked.
        foreach (int other in new[] { 4, -100 })
        {
            using var targets = device.IndexFromArray([0, 1, 2, 3, bad, other], 2, 3);
            foreach (ClassIdLoss loss in new ClassIdLoss[] { new NllLoss(), new CrossEntropyLoss() })
            {
                using (loss)
                {
                    var ex = Assert.Throws<ArgumentOutOfRangeException>(() => loss.Forward(input, targets));
                    Assert.That(ex!.Message, Is.EqualTo($"Target {bad} of row 4 is outside the 5 classes [0, 5). (Parameter 'targets')"), "one line names the value, its row and the classes");
                }
            }
        }
    }

    [Test]
    public void NllLossRefusesTargetsThatAreNotOnePerRowNamingBothShapes()
    {
        var device = TestDevices.Get("cpu");
        using var input = device.Zeros(2, 3, 5);
        using var targets = device.IndexFromArray([0, 1, 2, 3, 4], 5);
        using var loss = new NllLoss();

        var ex = Assert.Throws<ArgumentException>(() => loss.Forward(input, targets));

        Assert.That(ex!.Message, Does.StartWith("NLL loss needs one target per row of the log-probabilities [2, 3, 5] (6), but got targets [5]."));
        Assert.That(() => new NllLoss().Backward(), Throws.InvalidOperationException.With.Message.EqualTo("NllLoss.Backward was called before Forward."));
    }

    [Test]
    public void ASoftmaxModuleRefusesAGradientOfAnotherShapeNamingBoth()
    {
        var device = TestDevices.Get("cpu");
        using var softmax = new LogSoftmax();
        using var x = device.Zeros(2, 3, 5);
        using var wrong = device.Zeros(3, 5);
        softmax.Forward(x);

        var ex = Assert.Throws<ArgumentException>(() => softmax.Backward(wrong));

        Assert.That(ex!.Message, Does.Contain("LogSoftmax.Backward").And.Contain("[2, 3, 5]").And.Contain("[3, 5]"));
    }
}
