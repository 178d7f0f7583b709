using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Modules, losses and optimizers against PyTorch 1.13 (fixtures written by scripts/make_module_fixtures.py and, for
/// the batch-first classifier, scripts/make_batch_first_fixtures.py; see their headers). Tolerances as TorchParityTests: 1e-5 relative on outputs and losses, 1e-4 on gradients, 1e-5 on parameters
/// after 3 optimizer steps, each with an absolute floor of a tenth of that.
/// </summary>
public sealed class ModuleTorchParityTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ASequentialClassifierMatchesPyTorchOutputsLossesAndGradients(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_classifier.safetensors"));
        using var model = Classifier(device, fixture);
        using var x = device.IndexFromArray(fixture["inputs"].ToInt32Array(), 4, 3);
        using var y = device.IndexFromArray(fixture["targets"].ToInt32Array(), 3);
        using var loss = new CrossEntropyLoss();
        model.Parameters.ZeroGradients();
        var logits = model.Forward(x);
        Assert.That(logits.Shape, Is.EqualTo(new[] { 1, 3, 7 }));
        AssertClose(logits.ToArray(), fixture["logits"].Data, 1e-5, "logits");
        double value = loss.Forward(logits, y);
        Assert.That(value, Is.EqualTo(fixture["loss"].Data[0]).Within(1e-5 * Math.Abs(fixture["loss"].Data[0])), "loss");
        Assert.That(loss.CountedRows, Is.EqualTo(2), "the ignored target does not count");
        Assert.That(model.Backward(loss.Backward()), Is.Null, "token indices have no gradient");
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"grad.{p.Name}"].Data, 1e-4, $"grad.{p.Name}");
        }

        using var sum = new CrossEntropyLoss(Reduction.Sum);
        Assert.That(sum.Forward(model.Forward(x), y), Is.EqualTo(fixture["loss_sum"].Data[0]).Within(1e-5 * Math.Abs(fixture["loss_sum"].Data[0])), "loss_sum");
    }

    [TestCaseSource(nameof(ClassifierOptimizers))]
    public void OptimizersMatchPyTorchAfterThreeSteps(string deviceName, string run)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_classifier.safetensors"));
        using var model = Classifier(device, fixture);
        using var x = device.IndexFromArray(fixture["inputs"].ToInt32Array(), 4, 3);
        using var y = device.IndexFromArray(fixture["targets"].ToInt32Array(), 3);
        using var loss = new CrossEntropyLoss();
        using IOptimizer optimizer = run switch
        {
            "sgd_nesterov3" => new Sgd(model.Parameters, 0.1f, momentum: 0.9f, weightDecay: 0.01f, nesterov: true),
            "sgd_dampening3" => new Sgd(model.Parameters, 0.1f, momentum: 0.8f, dampening: 0.3f),
            _ => new AdamW(model.Parameters, 0.01f, weightDecay: 0.1f),
        };
        AssertThreeStepsMatch(model, optimizer, loss, x, y, fixture, run);
    }

    // The fixture of scripts/make_embedding_fixtures.py: Embedding(7, 4, padding_idx=2) + Linear(4, 3) on ids that hold
    // the padding index four times, from torch's initialisation (row 2 zero) and from a table whose row 2 is not
    // (nonzero.): the padding row is read as it is, gets a zero gradient, and only weight decay moves it (AdamW's
    // decoupled decay shrinks it; Adam's and SGD's L2 term is its whole gradient), as in PyTorch.
    [TestCaseSource(nameof(PaddingRuns))]
    public void AnEmbeddingWithPaddingIdxMatchesPyTorch(string deviceName, string start, string run)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_embedding_padding.safetensors"));
        Assert.That(fixture.Metadata["padding_idx"], Is.EqualTo("2"));
        using var model = new Sequential(new Embedding(7, 4, paddingIdx: 2), new Linear(4, 3));
        model.Build(device);
        Assert.That(model.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "1.weight", "1.bias" }), "torch's state_dict: no padding_idx");
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[start + p.Name].Data)));
        using var x = device.IndexFromArray(fixture["ids"].ToInt32Array(), 3, 4);
        using var y = device.IndexFromArray(fixture["targets"].ToInt32Array(), 3, 4);
        using var loss = new CrossEntropyLoss();
        model.Parameters.ZeroGradients();
        var output = model.Forward(x);
        AssertClose(output.ToArray(), fixture[start + "output"].Data, 1e-5, start + "output");
        Assert.That(loss.Forward(output, y), Is.EqualTo(fixture[start + "loss"].Data[0]).Within(1e-5 * fixture[start + "loss"].Data[0]), start + "loss");
        model.Backward(loss.Backward());
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"{start}grad.{p.Name}"].Data, 1e-4, $"{start}grad.{p.Name}");
        }

        Assert.That(model.Parameters["0.weight"].Gradient.ToArray()[8..12], Is.All.EqualTo(0f), "the padding row's gradient");
        using IOptimizer optimizer = run switch
        {
            "adam3" => new Adam(model.Parameters, 0.01f),
            "adam_l2_3" => new Adam(model.Parameters, 0.01f, weightDecay: 0.1f),
            "sgd3" => new Sgd(model.Parameters, 0.1f, momentum: 0.9f, weightDecay: 0.01f),
            _ => new AdamW(model.Parameters, 0.01f, weightDecay: 0.1f),
        };
        AssertThreeStepsMatch(model, optimizer, loss, x, y, fixture, start + run);
    }

    /// <summary>
    /// nn.Sequential(nn.LSTM(3, 5, 2, batch_first=True), x.narrow(1, T − 1, 1), nn.Linear(5, 4)) on dense [B, T, In] from
    /// a nonzero (h0, c0): the logits, the final state ([layers, B, H], as PyTorch keeps it under batch_first), the loss,
    /// every gradient and dL/dx in [B, T, In], then 3 Adam steps.
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ABatchFirstLstmClassifierMatchesPyTorchStatesGradientsAndAdam(string deviceName)
    {
        const int batch = 3, steps = 4, inputs = 3, hidden = 5, layers = 2;
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_batch_first.safetensors"));
        var lstm = new Lstm(inputs, hidden, layers, batchFirst: true);
        using var model = new Sequential(lstm, new Slice(-1, 1, dim: 1), new Linear(hidden, 4));
        model.Build(device);
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[p.Name].Data)));
        using var initial = lstm.CreateState(device, batch);
        for (int k = 0; k < layers; k++)
        {
            initial.Hidden[k].CopyFrom(fixture["h0"].Data.AsSpan(k * batch * hidden, batch * hidden));
            initial.Cell[k].CopyFrom(fixture["c0"].Data.AsSpan(k * batch * hidden, batch * hidden));
        }

        lstm.InitialState = initial;
        using var x = device.FromArray(fixture["x"].Data, batch, steps, inputs);
        using var y = device.IndexFromArray(fixture["targets"].ToInt32Array(), batch);
        using var loss = new CrossEntropyLoss();
        model.Parameters.ZeroGradients();
        var logits = model.Forward(x);
        Assert.That(logits.Shape, Is.EqualTo(new[] { batch, 1, 4 }));
        AssertClose(logits.ToArray(), fixture["logits"].Data, 1e-5, "logits");
        AssertClose([.. lstm.FinalState!.Hidden.SelectMany(t => t.ToArray())], fixture["h_n"].Data, 1e-5, "h_n");
        AssertClose([.. lstm.FinalState.Cell.SelectMany(t => t.ToArray())], fixture["c_n"].Data, 1e-5, "c_n");
        Assert.That(loss.Forward(logits, y), Is.EqualTo(fixture["loss"].Data[0]).Within(1e-5 * fixture["loss"].Data[0]), "loss");
        var dx = model.Backward(loss.Backward());
        Assert.That(dx!.Shape, Is.EqualTo(new[] { batch, steps, inputs }), "dL/dx is batch-first, as x");
        AssertClose(dx.ToArray(), fixture["grad.x"].Data, 1e-4, "grad.x");
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"grad.{p.Name}"].Data, 1e-4, $"grad.{p.Name}");
        }

        using var adam = new Adam(model.Parameters, 0.01f);
        for (int step = 0; step < 3; step++)
        {
            adam.ZeroGradients();
            double value = loss.Forward(model.Forward(x), y);
            Assert.That(value, Is.EqualTo(fixture["adam_losses"].Data[step]).Within(1e-5 * fixture["adam_losses"].Data[step]), $"loss before Adam step {step + 1}");
            model.Backward(loss.Backward());
            adam.Step();
        }

        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Value.ToArray(), fixture[$"adam3.{p.Name}"].Data, 1e-5, $"adam3.{p.Name}");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void LinearsWithoutBiasMatchPyTorchWithAdam(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_no_bias.safetensors"));
        using var model = new Sequential(new Linear(3, 5, bias: false), new Tanh(), new Linear(5, 2, bias: false));
        model.Build(device);
        Assert.That(model.Parameters.Parameters.Select(p => p.Name), Is.EqualTo(new[] { "0.weight", "2.weight" }), "torch's named_parameters");
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[p.Name].Data)));
        using var x = device.FromArray(fixture["x"].Data, 6, 3);
        using var y = device.FromArray(fixture["y"].Data, 6, 2);
        using var mse = new MseLoss();
        model.Parameters.ZeroGradients();
        var prediction = model.Forward(x);
        AssertClose(prediction.ToArray(), fixture["prediction"].Data, 1e-5, "prediction");
        Assert.That(mse.Forward(prediction, y), Is.EqualTo(fixture["loss"].Data[0]).Within(1e-5 * fixture["loss"].Data[0]), "loss");
        model.Backward(mse.Backward());
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"grad.{p.Name}"].Data, 1e-4, $"grad.{p.Name}");
        }

        using var adam = new Adam(model.Parameters, 0.01f);
        AssertThreeStepsMatch(model, adam, () =>
        {
            mse.Forward(model.Forward(x), y);
            model.Backward(mse.Backward());
        }, fixture, "adam3");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ARegressionMlpMatchesPyTorchWithMseAndSgd(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_regression.safetensors"));
        using var model = Regression(device, fixture);
        using var x = device.FromArray(fixture["x"].Data, 5, 3);
        using var y = device.FromArray(fixture["y"].Data, 5, 2);
        using var mse = new MseLoss();
        using var mseSum = new MseLoss(Reduction.Sum);
        model.Parameters.ZeroGradients();
        var prediction = model.Forward(x);
        AssertClose(prediction.ToArray(), fixture["prediction"].Data, 1e-5, "prediction");
        Assert.That(mseSum.Forward(prediction, y), Is.EqualTo(fixture["loss_sum"].Data[0]).Within(1e-5 * fixture["loss_sum"].Data[0]), "loss_sum");
        Assert.That(mse.Forward(prediction, y), Is.EqualTo(fixture["loss"].Data[0]).Within(1e-5 * fixture["loss"].Data[0]), "loss");
        var dx = model.Backward(mse.Backward());
        Assert.That(dx!.Shape, Is.EqualTo(new[] { 5, 3 }), "a float input gets its gradient");
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"grad.{p.Name}"].Data, 1e-4, $"grad.{p.Name}");
        }

        using var sgd = new Sgd(model.Parameters, 0.05f, weightDecay: 0.01f);
        AssertThreeStepsMatch(model, sgd, () =>
        {
            mse.Forward(model.Forward(x), y);
            model.Backward(mse.Backward());
        }, fixture, "sgd3");
    }

    /// <summary>nn.GELU, both forms, on [3, 5, 7] with 0, ±1e-3 and ±5 to ±100 among the values: output and input gradient.</summary>
    [TestCaseSource(nameof(GeluCases))]
    public void GeluMatchesPyTorchOutputsAndInputGradients(string deviceName, GeluApproximation approximate)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_gelu.safetensors"));
        string form = approximate == GeluApproximation.Tanh ? "tanh" : "none";
        using var gelu = new Gelu(approximate);
        using var x = device.FromArray(fixture["x"].Data, 3, 5, 7);
        using var dy = device.FromArray(fixture["dy"].Data, 3, 5, 7);
        var y = gelu.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(new[] { 3, 5, 7 }));
        AssertClose(y.ToArray(), fixture[$"{form}.y"].Data, 1e-5, $"{form}.y");
        AssertClose(gelu.Backward(dy).ToArray(), fixture[$"{form}.dx"].Data, 1e-4, $"{form}.dx");
    }

    /// <summary>
    /// nn.SiLU on [3, 5, 7] with 0, ±1e-3, ±5 to ±100, ±1e30, ±∞ and NaN among the values: output and input gradient,
    /// non-finite values as PyTorch's (+∞ at +∞, NaN at −∞ and NaN; a NaN gradient at ±∞).
    /// </summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SiluMatchesPyTorchOutputsAndInputGradients(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/silu_leaky_relu.safetensors"));
        using var silu = new Silu();
        using var x = device.FromArray(fixture["x"].Data, 3, 5, 7);
        using var dy = device.FromArray(fixture["dy"].Data, 3, 5, 7);
        var y = silu.Forward(x);
        Assert.That(y.Shape, Is.EqualTo(new[] { 3, 5, 7 }));
        AssertClose(y.ToArray(), fixture["silu.y"].Data, 1e-5, "silu.y");
        AssertClose(silu.Backward(dy).ToArray(), fixture["silu.dx"].Data, 1e-4, "silu.dx");
    }

    /// <summary>nn.LeakyReLU at slopes 0.01 (its default), −0.5, 0, 1.5 and +∞ on the same values: output and input gradient.</summary>
    [TestCaseSource(nameof(LeakyReluCases))]
    public void LeakyReluMatchesPyTorchOutputsAndInputGradients(string deviceName, int slopeIndex)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/silu_leaky_relu.safetensors"));
        float slope = fixture["leaky_relu.slopes"].Data[slopeIndex];
        const int n = 3 * 5 * 7;
        using var leaky = new LeakyRelu(slope);
        using var x = device.FromArray(fixture["x"].Data, 3, 5, 7);
        using var dy = device.FromArray(fixture["dy"].Data, 3, 5, 7);
        AssertClose(leaky.Forward(x).ToArray(), fixture["leaky_relu.y"].Data[(slopeIndex * n)..((slopeIndex + 1) * n)], 1e-5, $"leaky_relu.y[{slope}]");
        AssertClose(leaky.Backward(dy).ToArray(), fixture["leaky_relu.dx"].Data[(slopeIndex * n)..((slopeIndex + 1) * n)], 1e-4, $"leaky_relu.dx[{slope}]");
    }

    [Test]
    public void AStateDictSavedByPyTorchLoadsAndGivesItsLogits()
    {
        using var device = Device.Create("cpu");
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_classifier.safetensors"));
        using var model = ClassifierModules();
        model.Build(device, seed: 123);
        ModuleCheckpoint.Load(model, TestData.Fixture("torch/modules_classifier_state.safetensors"));
        using var x = device.IndexFromArray(fixture["inputs"].ToInt32Array(), 4, 3);
        AssertClose(model.Eval().Forward(x).ToArray(), fixture["logits"].Data, 1e-5, "logits");
    }

    [Test]
    public void AModuleStateDictRoundTripsThroughSafetensors()
    {
        using var device = Device.Create("cpu");
        using var model = ClassifierModules();
        model.Build(device, seed: 5);
        string path = Path.Combine(Path.GetTempPath(), $"tensorlet-module-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModuleCheckpoint.Save(model, path);
            using var loaded = ClassifierModules();
            loaded.Build(device, seed: 6);
            Assert.That(loaded.Parameters.Values.ToArray(), Is.Not.EqualTo(model.Parameters.Values.ToArray()));
            ModuleCheckpoint.Load(loaded, path);
            Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));
            Assert.That(SafeTensorsFile.Read(path).Tensors.Keys, Is.EquivalentTo(model.StateDict().Keys));

            using var other = new Sequential(new Embedding(11, 4), new Linear(4, 7));
            other.Build(device);
            var error = Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(other, path));
            Assert.That(error!.Message, Does.Contain("1.weight"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static IEnumerable<TestCaseData> LeakyReluCases()
        => TestDevices.All.SelectMany(device => Enumerable.Range(0, 5).Select(slope => new TestCaseData(device, slope)));

    private static IEnumerable<TestCaseData> GeluCases()
        => TestDevices.All.SelectMany(device => new[] { GeluApproximation.None, GeluApproximation.Tanh }.Select(approximate => new TestCaseData(device, approximate)));

    private static IEnumerable<TestCaseData> ClassifierOptimizers()
    {
        foreach (var device in TestDevices.All)
        {
            foreach (var run in new[] { "sgd_nesterov3", "sgd_dampening3", "adamw3" })
            {
                yield return new TestCaseData(device, run);
            }
        }
    }

    private static IEnumerable<TestCaseData> PaddingRuns()
    {
        foreach (var device in TestDevices.All)
        {
            foreach (var (start, run) in new[] { ("", "adam3"), ("", "adamw3"), ("nonzero.", "adamw3"), ("nonzero.", "adam_l2_3"), ("nonzero.", "sgd3") })
            {
                yield return new TestCaseData(device, start, run);
            }
        }
    }

    private static Sequential ClassifierModules()
        => new(new Embedding(11, 4), new Lstm(4, 5, 2), new Slice(-1, 1), new Linear(5, 6), new Relu(), new Linear(6, 7));

    private static Sequential Classifier(Device device, SafeTensorsFile fixture)
    {
        var model = ClassifierModules();
        model.Build(device);
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[p.Name].Data)));
        return model;
    }

    // The regression MLP of scripts/make_module_fixtures.py, with the parameters of a fixture that trains it.
    internal static Sequential Regression(Device device, SafeTensorsFile fixture)
    {
        var model = new Sequential(new Linear(3, 4), new Sigmoid(), new Linear(4, 4), new Tanh(), new Linear(4, 2));
        model.Build(device);
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[p.Name].Data)));
        return model;
    }

    private static void AssertThreeStepsMatch(Module model, IOptimizer optimizer, CrossEntropyLoss loss, IndexTensor x, IndexTensor y, SafeTensorsFile fixture, string run)
        => AssertThreeStepsMatch(model, optimizer, () =>
        {
            loss.Forward(model.Forward(x), y);
            model.Backward(loss.Backward());
        }, fixture, run);

    // Three steps as the fixtures take them (zero_grad, forward, loss, backward, step, then afterStep, e.g. a schedule's
    // step, on the same batch), then every parameter against the fixture's {run}.{name}.
    /// <summary>
    /// The regression MLP of <paramref name="fixtureName"/> (under torch/) on its x and y with MSELoss, 3 steps of the
    /// optimizer <paramref name="create"/> makes over its parameters, against the run's parameters there.
    /// </summary>
    internal static void AssertRegressionRunMatches(Device device, string fixtureName, string run, Func<ParameterCollection, Optimizer> create)
    {
        var fixture = SafeTensorsFile.Read(TestData.Fixture($"torch/{fixtureName}"));
        using var model = Regression(device, fixture);
        using var x = device.FromArray(fixture["x"].Data, 5, 3);
        using var y = device.FromArray(fixture["y"].Data, 5, 2);
        using var mse = new MseLoss();
        using var optimizer = create(model.Parameters);
        AssertThreeStepsMatch(model, optimizer, () =>
        {
            mse.Forward(model.Forward(x), y);
            model.Backward(mse.Backward());
        }, fixture, run);
    }

    internal static void AssertThreeStepsMatch(Module model, IOptimizer optimizer, Action forwardAndBackward, SafeTensorsFile fixture, string run, Action? afterStep = null)
    {
        for (int step = 0; step < 3; step++)
        {
            optimizer.ZeroGradients();
            forwardAndBackward();
            optimizer.Step();
            afterStep?.Invoke();
        }

        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Value.ToArray(), fixture[$"{run}.{p.Name}"].Data, 1e-5, $"{run}.{p.Name}");
        }
    }

    // A built model loaded with the fixture's {variant}.<param>, then its MSE run on {variant}.x and {variant}.y and three
    // Adam steps (lr 0.01) on that batch, against the fixture's {variant}.output, ... and {variant}.adam3.<param>.
    internal static void AssertMseRunAndThreeAdamStepsMatch(Module model, SafeTensorsFile fixture, string variant, int[] xShape, int[] yShape)
    {
        var device = model.Parameters.Values.Device;
        model.LoadStateDict(model.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[$"{variant}.{p.Name}"].Data)));
        using var x = device.FromArray(fixture[$"{variant}.x"].Data, xShape);
        using var y = device.FromArray(fixture[$"{variant}.y"].Data, yShape);
        using var mse = new MseLoss();

        AssertMseRunMatches(model, mse, x, y, fixture, $"{variant}.");

        using var adam = new Adam(model.Parameters, 0.01f);
        AssertThreeStepsMatch(model, adam, () =>
        {
            mse.Forward(model.Forward(x), y);
            model.Backward(mse.Backward());
        }, fixture, $"{variant}.adam3");
    }

    // Forward, MSE and backward from the model as it is, against the fixture's {prefix}output, loss, grad.x and grad.<param>.
    internal static void AssertMseRunMatches(Module model, MseLoss mse, Tensor x, Tensor y, SafeTensorsFile fixture, string prefix)
    {
        model.Parameters.ZeroGradients();
        var output = model.Forward(x);
        Assert.That(output.Shape, Is.EqualTo(y.Shape));
        AssertClose(output.ToArray(), fixture[prefix + "output"].Data, 1e-5, prefix + "output");
        double loss = mse.Forward(output, y);
        Assert.That(loss, Is.EqualTo(fixture[prefix + "loss"].Data[0]).Within(1e-5 * fixture[prefix + "loss"].Data[0]), prefix + "loss");
        var dx = model.Backward(mse.Backward())!;
        Assert.That(dx.Shape, Is.EqualTo(x.Shape));
        AssertClose(dx.ToArray(), fixture[prefix + "grad.x"].Data, 1e-4, prefix + "grad.x");
        foreach (var p in model.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"{prefix}grad.{p.Name}"].Data, 1e-4, $"{prefix}grad.{p.Name}");
        }
    }

    /// <summary>
    /// Saves <paramref name="model"/> with <see cref="ModuleCheckpoint"/>, checks that the file holds the tensors of
    /// the PyTorch state_dict file at <paramref name="torchPath"/> (names, dtypes and shapes), and loads it into
    /// <paramref name="fresh"/>, a built model of the same architecture.
    /// </summary>
    internal static void AssertSavesAsPyTorchsFileAndLoadsInto(Module model, string torchPath, Module fresh)
    {
        string path = Path.Combine(Path.GetTempPath(), $"tensorlet-state-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModuleCheckpoint.Save(model, path);
            var file = SafeTensorsFile.Read(path);
            var torchFile = SafeTensorsFile.Read(torchPath);
            Assert.That(file.Tensors.Keys, Is.EquivalentTo(torchFile.Tensors.Keys));
            foreach (var t in torchFile.Tensors.Values)
            {
                Assert.That(file[t.Name].DType, Is.EqualTo(t.DType), t.Name);
                Assert.That(file[t.Name].Shape, Is.EqualTo(t.Shape), t.Name);
            }

            ModuleCheckpoint.Load(fresh, path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    internal static void AssertClose(float[] actual, float[] expected, double relative, string name)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), name);
        double absolute = relative / 10;
        for (int i = 0; i < actual.Length; i++)
        {
            // A non-finite expected value (−∞ or NaN, as PyTorch gives some) is matched exactly, NaN by NaN.
            double magnitude = float.IsFinite(expected[i]) ? Math.Abs(expected[i]) : 0;
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(absolute + (relative * magnitude)), $"{name}[{i}]");
        }
    }
}
