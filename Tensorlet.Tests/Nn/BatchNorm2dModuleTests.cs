using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The BatchNorm2d module against PyTorch 1.13 (fixtures written by scripts/make_pool2d_fixtures.py; see its header) at
/// the tolerances of <see cref="ModuleTorchParityTests"/>: in training (output, gradients, running statistics) and
/// evaluation, with a cumulative average and no affine, without running statistics; its state_dict and a round trip
/// through a checkpoint; and a wrong input refused. Its gradients against central finite differences are in
/// <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class BatchNorm2dModuleTests
{
    private static readonly int[] Shape = [4, 3, 5, 6];

    private static IEnumerable<TestCaseData> Modes() =>
        from device in TestDevices.All
        from mode in new[] { "train", "eval" }
        select new TestCaseData(device, mode);

    [TestCaseSource(nameof(Modes))]
    public void ItMatchesPyTorchOutputsGradientsAndRunningStatistics(string deviceName, string mode)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = Fixture();
        using var layer = Start(device, fixture);
        if (mode == "eval")
        {
            layer.Eval();
        }

        using var x = device.FromArray(fixture["bn.x"].Data, Shape);
        using var dy = device.FromArray(fixture["bn.dy"].Data, Shape);
        layer.Parameters.ZeroGradients();
        var y = layer.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(Shape));
        ModuleTorchParityTests.AssertClose(y.ToArray(), fixture[$"bn.{mode}.output"].Data, 1e-5, "output");
        var dx = layer.Backward(dy);
        Assert.That(dx.Shape, Is.EqualTo(Shape));
        ModuleTorchParityTests.AssertClose(dx.ToArray(), fixture[$"bn.{mode}.grad.x"].Data, 1e-4, "grad.x");
        ModuleTorchParityTests.AssertClose(layer.Weight!.Gradient.ToArray(), fixture[$"bn.{mode}.grad.weight"].Data, 1e-4, "grad.weight");
        ModuleTorchParityTests.AssertClose(layer.Bias!.Gradient.ToArray(), fixture[$"bn.{mode}.grad.bias"].Data, 1e-4, "grad.bias");
        if (mode == "train")
        {
            ModuleTorchParityTests.AssertClose(layer.RunningMean!.Value.ToArray(), fixture["bn.train.running_mean"].Data, 1e-5, "running_mean");
            ModuleTorchParityTests.AssertClose(layer.RunningVar!.Value.ToArray(), fixture["bn.train.running_var"].Data, 1e-5, "running_var");
            Assert.That(layer.NumBatchesTracked, Is.EqualTo(3));
        }
        else
        {
            Assert.That(layer.RunningMean!.Value.ToArray(), Is.EqualTo(fixture["bn.running_mean"].Data), "evaluation leaves the running statistics");
            Assert.That(layer.NumBatchesTracked, Is.EqualTo(2));
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ACumulativeAverageWithoutAffineAndNoRunningStatisticsMatchPyTorch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = Fixture();
        using var x = device.FromArray(fixture["bn.x"].Data, Shape);
        using var x2 = device.FromArray(fixture["bn.cma.x2"].Data, 2, 3, 4, 4);
        using var dy = device.FromArray([.. Enumerable.Range(0, 24).SelectMany(row => fixture["bn.cma.x2"].Data.Skip(row * 4).Take(4).Reverse())], 2, 3, 4, 4);

        using var cma = new BatchNorm2d(3, momentum: null, affine: false);
        cma.Build(device);
        Assert.That(cma.StateDict().Keys, Is.EqualTo(new[] { "running_mean", "running_var", "num_batches_tracked" }));
        cma.Forward(x);
        ModuleTorchParityTests.AssertClose(cma.Forward(x2).ToArray(), fixture["bn.cma.output"].Data, 1e-5, "output");
        ModuleTorchParityTests.AssertClose(cma.Backward(dy).ToArray(), fixture["bn.cma.grad.x"].Data, 1e-4, "grad.x");
        ModuleTorchParityTests.AssertClose(cma.RunningMean!.Value.ToArray(), fixture["bn.cma.running_mean"].Data, 1e-5, "cumulative running_mean");
        ModuleTorchParityTests.AssertClose(cma.RunningVar!.Value.ToArray(), fixture["bn.cma.running_var"].Data, 1e-5, "cumulative running_var");

        using var untracked = new BatchNorm2d(3, trackRunningStats: false);
        untracked.Build(device);
        untracked.Eval();
        Assert.That(untracked.StateDict().Keys, Is.EqualTo(new[] { "weight", "bias" }));
        ModuleTorchParityTests.AssertClose(untracked.Forward(x).ToArray(), fixture["bn.untracked.output"].Data, 1e-5, "untracked output in eval");
    }

    [Test]
    public void ItsStateDictHasPyTorchsNamesAndRoundTripsThroughACheckpoint()
    {
        var device = TestDevices.Get("cpu");
        var fixture = Fixture();
        using var layer = Start(device, fixture);
        Assert.That(layer.StateDict().Keys, Is.EqualTo(fixture.Metadata["bn_keys"].Split(',')));
        Assert.That(layer.Parameters.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "weight", "bias" }));
        using var x = device.FromArray(fixture["bn.x"].Data, Shape);
        layer.Forward(x);
        layer.Eval();
        var expected = layer.Forward(x).ToArray();

        string path = Path.Combine(Path.GetTempPath(), $"tensorlet-batchnorm2d-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModuleCheckpoint.Save(layer, path);
            using var loaded = new BatchNorm2d(3);
            loaded.Build(device);
            ModuleCheckpoint.Load(loaded, path);
            Assert.That(loaded.NumBatchesTracked, Is.EqualTo(3));
            loaded.Eval();
            Assert.That(loaded.Forward(x).ToArray(), Is.EqualTo(expected), "the parameters and running statistics came back");
            Assert.That(loaded.StateDict()["running_var"].Data, Is.EqualTo(layer.StateDict()["running_var"].Data));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void AWrongInputIsRefusedInOneLineAndTheLayerGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var layer = new BatchNorm2d(4);
        layer.Build(device);
        foreach (var shape in new[] { new[] { 2, 4 }, [2, 4, 5], [2, 3, 2, 2], [2, 4, 0, 3], [2, 4, 3, 0], [2, 4, 1, 1, 1] })
        {
            using var wrong = device.Zeros(shape);
            var error = Assert.Throws<ArgumentException>(() => layer.Forward(wrong))!;
            Assert.That(error.Message, Does.Contain("BatchNorm2d(4) takes [N, 4, H, W] input").And.Contain(wrong.ShapeText).And.Not.Contain('\n'));
        }

        using var single = device.Zeros(1, 4, 1, 1);
        var one = Assert.Throws<ArgumentException>(() => layer.Forward(single))!;
        Assert.That(one.Message, Does.Contain("BatchNorm2d(4) expected more than 1 value per channel").And.Contain("[1, 4, 1, 1]").And.Not.Contain('\n'));
        Assert.That(layer.NumBatchesTracked, Is.Zero, "a refused batch is not counted");

        using var right = device.FromArray([.. Enumerable.Range(0, 16).Select(i => (float)i)], 1, 4, 2, 2);
        Assert.That(layer.Forward(right).ToArray().Sum(), Is.EqualTo(0f).Within(1e-5), "one example of 2 × 2 values per channel is fine");
        Assert.That(layer.NumBatchesTracked, Is.EqualTo(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm2d(0));
        var epsilon = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm2d(4, epsilon: float.NaN))!;
        Assert.That(epsilon.Message, Does.StartWith("BatchNorm2d's epsilon must be"));
    }

    // The BatchNorm2d as the fixture's start: its weight, bias and running statistics, and num_batches_tracked 2.
    private static BatchNorm2d Start(Device device, SafeTensorsFile fixture)
    {
        var layer = new BatchNorm2d(3);
        layer.Build(device);
        layer.LoadStateDict(layer.StateDict().ToDictionary(e => e.Key, e => (e.Value.Shape, fixture[$"bn.{e.Key}"].Data)));
        return layer;
    }

    private static SafeTensorsFile Fixture() => SafeTensorsFile.Read(TestData.Fixture("torch/pool2d.safetensors"));
}
