using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The BatchNorm1d module: against PyTorch 1.13 (fixtures written by scripts/make_batchnorm_fixtures.py; see its header)
/// at the tolerances of <see cref="ModuleTorchParityTests"/>, in training and evaluation, on [N, C] and [N, C, L]; its
/// running statistics, its state_dict and checkpoints, and a wrong input refused. Its gradients against central finite
/// differences are in <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class BatchNorm1dModuleTests
{
    private static readonly Dictionary<string, (int[] X, int[] Y, int In, int Hidden, int Channels, int Out)> Sizes = new()
    {
        ["2d"] = ([6, 4], [6, 3], 4, 5, 5, 3),
        ["3d"] = ([4, 3, 4], [4, 3, 2], 4, 6, 3, 2),
    };

    private static IEnumerable<TestCaseData> Variants() =>
        from device in TestDevices.All
        from variant in new[] { "2d", "3d" }
        select new TestCaseData(device, variant);

    [TestCaseSource(nameof(Variants))]
    public void InTrainingItMatchesPyTorchOutputsGradientsRunningStatisticsAndThreeAdamSteps(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = Fixture();
        using var model = Model(variant);
        model.Build(device);
        LoadStart(model, fixture, variant);
        using var x = device.FromArray(fixture[$"{variant}.x"].Data, Sizes[variant].X);
        using var y = device.FromArray(fixture[$"{variant}.y"].Data, Sizes[variant].Y);
        using var mse = new MseLoss();

        ModuleTorchParityTests.AssertMseRunMatches(model, mse, x, y, fixture, $"{variant}.train.");
        var batchNorm = (BatchNorm1d)model[1];
        ModuleTorchParityTests.AssertClose(batchNorm.RunningMean!.Value.ToArray(), fixture[$"{variant}.train.1.running_mean"].Data, 1e-5, "running_mean");
        ModuleTorchParityTests.AssertClose(batchNorm.RunningVar!.Value.ToArray(), fixture[$"{variant}.train.1.running_var"].Data, 1e-5, "running_var");
        Assert.That(batchNorm.NumBatchesTracked, Is.EqualTo(3));

        LoadStart(model, fixture, variant);
        using var adam = new Adam(model.Parameters, 0.01f);
        ModuleTorchParityTests.AssertThreeStepsMatch(model, adam, () =>
        {
            mse.Forward(model.Forward(x), y);
            model.Backward(mse.Backward());
        }, fixture, $"{variant}.adam3");
        ModuleTorchParityTests.AssertClose(batchNorm.RunningMean.Value.ToArray(), fixture[$"{variant}.adam3.1.running_mean"].Data, 1e-5, "running_mean after 3 steps");
        ModuleTorchParityTests.AssertClose(batchNorm.RunningVar.Value.ToArray(), fixture[$"{variant}.adam3.1.running_var"].Data, 1e-5, "running_var after 3 steps");
        Assert.That(batchNorm.NumBatchesTracked, Is.EqualTo(5));
    }

    [TestCaseSource(nameof(Variants))]
    public void InEvaluationItUsesTheRunningStatisticsAsPyTorchDoes(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = Fixture();
        using var model = Model(variant);
        model.Build(device);
        LoadStart(model, fixture, variant);
        model.Eval();
        using var x = device.FromArray(fixture[$"{variant}.x"].Data, Sizes[variant].X);
        using var y = device.FromArray(fixture[$"{variant}.y"].Data, Sizes[variant].Y);
        using var mse = new MseLoss();

        ModuleTorchParityTests.AssertMseRunMatches(model, mse, x, y, fixture, $"{variant}.eval.");
        var batchNorm = (BatchNorm1d)model[1];
        Assert.That(batchNorm.RunningMean!.Value.ToArray(), Is.EqualTo(fixture[$"{variant}.1.running_mean"].Data), "evaluation leaves the running statistics");
        Assert.That(batchNorm.NumBatchesTracked, Is.EqualTo(2));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ACumulativeAverageNoRunningStatisticsAndNoAffineMatchPyTorch(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = Fixture();
        var batches = new[] { "b1", "b2", "b3" }.Select(b => device.FromArray(fixture[$"cma.{b}"].Data, 6, 5)).ToList();
        try
        {
            using var cma = new BatchNorm1d(5, momentum: null);
            cma.Build(device);
            foreach (var batch in batches)
            {
                cma.Forward(batch);
            }

            ModuleTorchParityTests.AssertClose(cma.RunningMean!.Value.ToArray(), fixture["cma.running_mean"].Data, 1e-5, "cumulative running_mean");
            ModuleTorchParityTests.AssertClose(cma.RunningVar!.Value.ToArray(), fixture["cma.running_var"].Data, 1e-5, "cumulative running_var");

            using var untracked = new BatchNorm1d(5, trackRunningStats: false);
            untracked.Build(device);
            untracked.Eval();
            Assert.That(untracked.NamedBuffers, Is.Empty);
            Assert.That(untracked.StateDict().Keys, Is.EqualTo(new[] { "weight", "bias" }));
            ModuleTorchParityTests.AssertClose(untracked.Forward(batches[0]).ToArray(), fixture["untracked.output"].Data, 1e-5, "untracked output in eval");

            using var noAffine = new BatchNorm1d(5, affine: false);
            noAffine.Build(device);
            Assert.That(noAffine.Parameters.Parameters, Is.Empty);
            Assert.That(noAffine.StateDict().Keys, Is.EqualTo(new[] { "running_mean", "running_var", "num_batches_tracked" }));
            ModuleTorchParityTests.AssertClose(noAffine.Forward(batches[0]).ToArray(), fixture["no_affine.output"].Data, 1e-5, "no_affine output");
            ModuleTorchParityTests.AssertClose(noAffine.Backward(batches[1]).ToArray(), fixture["no_affine.grad.x"].Data, 1e-4, "no_affine grad.x");
        }
        finally
        {
            batches.ForEach(b => b.Dispose());
        }
    }

    [Test]
    public void ItsStateDictHasPyTorchsNamesAndOrderWithBuffersOutsideTheParameters()
    {
        var fixture = Fixture();
        using var model = Model("2d");
        model.Build(TestDevices.Get("cpu"), seed: 3);
        Assert.That(model.StateDict().Keys, Is.EqualTo(fixture.Metadata["keys"].Split(',')));
        Assert.That(model.Parameters.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "0.weight", "1.weight", "1.bias", "3.weight", "3.bias" }));
        var state = model.StateDict();
        Assert.That(state["1.weight"].Data, Is.All.EqualTo(1f));
        Assert.That(state["1.bias"].Data, Is.All.EqualTo(0f));
        Assert.That(state["1.running_mean"].Data, Is.All.EqualTo(0f));
        Assert.That(state["1.running_var"].Data, Is.All.EqualTo(1f));
        Assert.That(state["1.num_batches_tracked"], Is.EqualTo((Array.Empty<int>(), new[] { 0f })).Using<(int[], float[])>((a, b) => a.Item1.SequenceEqual(b.Item1) && a.Item2.SequenceEqual(b.Item2)));
    }

    [Test]
    public void AStateDictSavedByPyTorchLoadsAndRoundTripsThroughSafetensors()
    {
        var device = TestDevices.Get("cpu");
        var fixture = Fixture();
        using var model = Model("2d");
        model.Build(device, seed: 8);
        ModuleCheckpoint.Load(model, TestData.Fixture("torch/batchnorm_state.safetensors"));
        Assert.That(((BatchNorm1d)model[1]).NumBatchesTracked, Is.EqualTo(5), "the I64 scalar PyTorch wrote");
        model.Eval();
        using var x = device.FromArray(fixture["2d.x"].Data, 6, 4);
        var expected = model.Forward(x).ToArray();
        ModuleTorchParityTests.AssertClose(expected, fixture["state.eval.output"].Data, 1e-5, "eval output of the PyTorch state_dict");

        using var loaded = Model("2d");
        loaded.Build(device, seed: 9);
        ModuleTorchParityTests.AssertSavesAsPyTorchsFileAndLoadsInto(model, TestData.Fixture("torch/batchnorm_state.safetensors"), loaded);
        loaded.Eval();
        Assert.That(loaded.Forward(x).ToArray(), Is.EqualTo(expected), "the running statistics came back");
        Assert.That(((BatchNorm1d)loaded[1]).NumBatchesTracked, Is.EqualTo(5));
    }

    [TestCase("no_count")]
    [TestCase("float_count")]
    public void AStateDictWithoutTheCountOrWithAFloatCountLoadsAsInPyTorch(string variant)
    {
        var device = TestDevices.Get("cpu");
        var fixture = Fixture();
        string path = TestData.Fixture($"torch/batchnorm_state_{variant}.safetensors");
        var file = SafeTensorsFile.Read(path);
        long expected = long.Parse(file.Metadata["loaded_num_batches_tracked"], System.Globalization.CultureInfo.InvariantCulture);
        using var x = device.FromArray(fixture["2d.x"].Data, 6, 4);
        using var model = Model("2d");
        model.Build(device, seed: 8);
        var batchNorm = (BatchNorm1d)model[1];
        LoadStart(model, fixture, "2d"); // the count at 2, as the model PyTorch loaded into

        ModuleCheckpoint.Load(model, path);
        Assert.That(batchNorm.NumBatchesTracked, Is.EqualTo(expected), "ModuleCheckpoint.Load");
        model.Eval();
        ModuleTorchParityTests.AssertClose(model.Forward(x).ToArray(), fixture["state.eval.output"].Data, 1e-5, "eval output");

        LoadStart(model, fixture, "2d");
        var (missing, unexpected) = model.LoadStateDict(file.Tensors.ToDictionary(t => t.Key, t => (t.Value.Shape.ToArray(), t.Value.Data)), strict: false);
        Assert.That((missing, unexpected), Is.EqualTo((Array.Empty<string>(), Array.Empty<string>())), "nothing missing, as in PyTorch");
        Assert.That(batchNorm.NumBatchesTracked, Is.EqualTo(expected), "LoadStateDict");
        LoadStart(model, fixture, "2d");
        model.LoadStateDict(file.Tensors.ToDictionary(t => t.Key, t => (t.Value.Shape.ToArray(), t.Value.Data)));
        Assert.That(batchNorm.NumBatchesTracked, Is.EqualTo(expected), "LoadStateDict, strict");
    }

    [TestCase("F32", 2.5)]
    [TestCase("F64", 2.5)]
    [TestCase("F64", -1.0)]
    [TestCase("F64", 3.0)]
    [TestCase("F32", 3.0)]
    public void AFloatCountLoadsWhenItIsAWholeNumberAtLeastZeroAndIsRefusedInOneLineOtherwise(string dtype, double count)
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4));
        model.Build(device, seed: 1);
        var state = model.StateDict();
        state["1.running_mean"].Data[0] = 0.5f;
        string path = Path.Combine(Path.GetTempPath(), $"tensorlet-count-{Guid.NewGuid():N}.safetensors");
        try
        {
            WriteWithCount(path, state, dtype, count);
            var before = model.StateDict().Select(e => (e.Key, e.Value.Data)).ToArray();
            var withCount = new Dictionary<string, (int[] Shape, float[] Data)>(state) { ["1.num_batches_tracked"] = ([], [(float)count]) };
            if (count == 3.0)
            {
                ModuleCheckpoint.Load(model, path);
                Assert.That((((BatchNorm1d)model[1]).NumBatchesTracked, model.StateDict()["1.running_mean"].Data[0]), Is.EqualTo((3L, 0.5f)));
                return;
            }

            var fromFile = Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(model, path))!;
            var fromDictionary = Assert.Throws<ArgumentException>(() => model.LoadStateDict(withCount))!;
            foreach (var message in new[] { fromFile.Message, fromDictionary.Message })
            {
                Assert.That(message, Does.Contain("'1.num_batches_tracked'").And.Contain($"is {(float)count}").And.Contain("whole number ≥ 0").And.Not.Contain('\n'));
            }

            Assert.That(model.StateDict().Select(e => (e.Key, e.Value.Data)).ToArray(), Is.EqualTo(before), "nothing changed");
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
        using var layer = new BatchNorm1d(4);
        layer.Build(device);
        using var gradient = device.Zeros(2, 4);
        Assert.Throws<InvalidOperationException>(() => layer.Backward(gradient), "Backward before Forward");
        foreach (var shape in new[] { new[] { 2, 3 }, [2, 4, 5, 1], [4], [2, 3, 4] })
        {
            using var wrong = device.Zeros(shape);
            var error = Assert.Throws<ArgumentException>(() => layer.Forward(wrong))!;
            Assert.That(error.Message, Does.Contain("BatchNorm1d(4)").And.Contain(wrong.ShapeText).And.Not.Contain('\n'));
        }

        using var single = device.Zeros(1, 4);
        var one = Assert.Throws<ArgumentException>(() => layer.Forward(single))!;
        Assert.That(one.Message, Does.Contain("more than 1 value per channel").And.Contain("[1, 4]").And.Not.Contain('\n'));
        Assert.That(layer.NumBatchesTracked, Is.Zero, "a refused batch is not counted");
        Assert.That(layer.RunningVar!.Value.ToArray(), Is.All.EqualTo(1f), "nor does it move the running statistics");
        using var singleSteps = device.Zeros(1, 4, 1);
        Assert.Throws<ArgumentException>(() => layer.Forward(singleSteps));

        layer.Eval();
        Assert.That(layer.Forward(single).ToArray(), Is.All.EqualTo(0f).Within(1e-6), "one example in evaluation is fine");
        layer.Train();
        using var right = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], 2, 4);
        Assert.That(layer.Forward(right).ToArray().Sum(), Is.EqualTo(0f).Within(1e-5), "the layer still works");
        Assert.That(layer.NumBatchesTracked, Is.EqualTo(1));

        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm1d(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm1d(4, epsilon: -1e-5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm1d(4, epsilon: float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm1d(4, momentum: 1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new BatchNorm1d(4, momentum: float.NaN));
    }

    [Test]
    public void AnInputOnAnotherDeviceIsRefusedInOneLineBeforeTheStatisticsOrTheCountMove()
    {
        using var layer = new BatchNorm1d(4);
        layer.Build(TestDevices.Get("cpu"));
        using var separate = Device.Create("cpu");
        var others = new[] { TestDevices.Get("ilgpu-cpu"), separate };
        foreach (var (other, training) in others.SelectMany(d => new[] { (d, true), (d, false) }))
        {
            layer.Train(training);
            using var x = other.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], 2, 4);
            var error = Assert.Throws<ArgumentException>(() => layer.Forward(x))!;
            Assert.That(error.Message, Does.StartWith("BatchNorm1d is on cpu").And.Contain(other == separate ? "separate Device instance" : "ilgpu-cpu").And.Not.Contain('\n'));
        }

        Assert.That(layer.NumBatchesTracked, Is.Zero, "the count");
        Assert.That((layer.RunningMean!.Value.ToArray(), layer.RunningVar!.Value.ToArray()), Is.EqualTo((new float[4], new[] { 1f, 1f, 1f, 1f })), "the running statistics");
    }

    [Test]
    public void WithoutRunningStatisticsOneValuePerChannelIsRefusedInEvaluationTooAsInPyTorch()
    {
        var device = TestDevices.Get("cpu");
        using var layer = new BatchNorm1d(4, trackRunningStats: false);
        layer.Build(device);
        layer.Eval();
        foreach (var shape in new[] { new[] { 1, 4 }, [1, 4, 1] })
        {
            using var single = device.Zeros(shape);
            var error = Assert.Throws<ArgumentException>(() => layer.Forward(single))!;
            Assert.That(error.Message, Does.Contain("more than 1 value per channel").And.Contain(single.ShapeText).And.Contain("trackRunningStats: false").And.Not.Contain('\n'));
        }

        using var two = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], 2, 4);
        Assert.That(layer.Forward(two).ToArray(), Is.EqualTo(new[] { -1f, -1f, -1f, -1f, 1f, 1f, 1f, 1f }).Within(1e-4), "the batch's statistics");
    }

    // A safetensors file of the state's F32 tensors but 1.num_batches_tracked, a scalar of dtype F32 or F64 holding count.
    private static void WriteWithCount(string path, Dictionary<string, (int[] Shape, float[] Data)> state, string dtype, double count)
    {
        var header = new List<string>();
        var bytes = new List<byte>();
        foreach (var (name, (shape, data)) in state.Where(e => e.Key != "1.num_batches_tracked"))
        {
            header.Add($"\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{bytes.Count},{bytes.Count + (4 * data.Length)}]}}");
            bytes.AddRange(data.SelectMany(BitConverter.GetBytes));
        }

        byte[] countBytes = dtype == "F64" ? BitConverter.GetBytes(count) : BitConverter.GetBytes((float)count);
        header.Add($"\"1.num_batches_tracked\":{{\"dtype\":\"{dtype}\",\"shape\":[],\"data_offsets\":[{bytes.Count},{bytes.Count + countBytes.Length}]}}");
        bytes.AddRange(countBytes);
        var json = System.Text.Encoding.UTF8.GetBytes("{" + string.Join(",", header) + "}");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. bytes]);
    }

    // The fixture's start state: every parameter and buffer, num_batches_tracked 2.
    private static void LoadStart(Module model, SafeTensorsFile fixture, string variant)
        => model.LoadStateDict(model.StateDict().ToDictionary(e => e.Key, e => (e.Value.Shape, fixture[$"{variant}.{e.Key}"].Data)));

    private static SafeTensorsFile Fixture() => SafeTensorsFile.Read(TestData.Fixture("torch/batchnorm.safetensors"));

    private static Sequential Model(string variant)
    {
        var (_, _, inputs, hidden, channels, outputs) = Sizes[variant];
        // The 2d model's first Linear has no bias: the batch norm after it would subtract it again (see the script).
        return new Sequential(new Linear(inputs, hidden, bias: variant != "2d"), new BatchNorm1d(channels), new Relu(), new Linear(hidden, outputs));
    }
}
