using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// The LayerNorm module: against PyTorch 1.13 (fixtures written by scripts/make_layernorm_fixtures.py; see its header)
/// at the tolerances of <see cref="ModuleTorchParityTests"/>, its state_dict, any rank, and a wrong input refused.
/// Its gradients against central finite differences are in <see cref="ModuleGradientTests"/>.
/// </summary>
public sealed class LayerNormModuleTests
{
    private static IEnumerable<TestCaseData> Variants() =>
        from device in TestDevices.All
        from variant in new[] { "affine", "no_bias", "no_affine" }
        select new TestCaseData(device, variant);

    [TestCaseSource(nameof(Variants))]
    public void ASequentialWithALayerNormMatchesPyTorchOutputsGradientsAndThreeAdamSteps(string deviceName, string variant)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/layernorm.safetensors"));
        using var model = Model(variant);
        model.Build(device);
        ModuleTorchParityTests.AssertMseRunAndThreeAdamStepsMatch(model, fixture, variant, [2, 5, 4], [2, 5, 3]);
    }

    [Test]
    public void ItsStateDictHasNnLayerNormsNamesAndStartsAtOnesAndZeros()
    {
        var device = TestDevices.Get("cpu");
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/layernorm.safetensors"));
        using var affine = Model("affine");
        affine.Build(device, seed: 4);
        var state = affine.StateDict();
        Assert.That(state.Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias" }));
        Assert.That(state["1.weight"].Shape, Is.EqualTo(new[] { 6 }));
        Assert.That(state["1.weight"].Data, Is.EqualTo(fixture["default.weight"].Data), "ones, as a fresh nn.LayerNorm");
        Assert.That(state["1.bias"].Data, Is.EqualTo(fixture["default.bias"].Data), "zeros, as a fresh nn.LayerNorm");

        using var noBias = Model("no_bias");
        noBias.Build(device);
        Assert.That(noBias.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "1.weight", "3.weight", "3.bias" }));
        Assert.That(((LayerNorm)noBias[1]).Bias, Is.Null);

        using var noAffine = Model("no_affine");
        noAffine.Build(device);
        Assert.That(noAffine.StateDict().Keys, Is.EqualTo(new[] { "0.weight", "0.bias", "3.weight", "3.bias" }));
        Assert.That(((LayerNorm)noAffine[1]).Weight, Is.Null);
        Assert.That(((LayerNorm)noAffine[1]).Bias, Is.Null);
    }

    [Test]
    public void AStateDictSavedByPyTorchLoadsAndRoundTripsThroughSafetensors()
    {
        var device = TestDevices.Get("cpu");
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/layernorm.safetensors"));
        using var model = Model("affine");
        model.Build(device, seed: 8);
        ModuleCheckpoint.Load(model, TestData.Fixture("torch/layernorm_state.safetensors"));
        using var x = device.FromArray(fixture["affine.x"].Data, 2, 5, 4);
        var expected = fixture["affine.output"].Data;
        ModuleTorchParityTests.AssertClose(model.Forward(x).ToArray(), expected, 1e-5, "output of the PyTorch state_dict");

        string path = Path.Combine(Path.GetTempPath(), $"tensorlet-layernorm-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModuleCheckpoint.Save(model, path);
            Assert.That(SafeTensorsFile.Read(path).Tensors.Keys, Is.EquivalentTo(model.StateDict().Keys));
            using var loaded = Model("affine");
            loaded.Build(device, seed: 9);
            ModuleCheckpoint.Load(loaded, path);
            Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));
            Assert.That(loaded.Forward(x).ToArray(), Is.EqualTo(model.Forward(x).ToArray()));

            using var withoutBias = Model("no_bias");
            withoutBias.Build(device);
            var error = Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(withoutBias, path));
            Assert.That(error!.Message, Does.Contain("1.bias"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void EveryRankIsNormalizedOverItsLastDimension(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var layer = new LayerNorm(6);
        layer.Build(device, seed: 1);
        layer.Parameters.Values.CopyFrom([.. Enumerable.Range(0, 12).Select(i => 0.5f + (0.1f * i))]);
        var values = Enumerable.Range(0, 36).Select(i => MathF.Sin(i) * (1 + (i / 6))).ToArray();
        using var matrix = device.FromArray(values, 6, 6);
        var expected = layer.Forward(matrix).ToArray();
        var dy = Enumerable.Range(0, 36).Select(i => MathF.Cos(i)).ToArray();
        using var dyMatrix = device.FromArray(dy, 6, 6);
        layer.Parameters.ZeroGradients();
        var expectedDx = layer.Backward(dyMatrix).ToArray();
        var expectedGradients = layer.Parameters.Gradients.ToArray();

        foreach (int[] shape in new[] { new[] { 2, 3, 6 }, new[] { 3, 1, 2, 6 } })
        {
            using var x = device.FromArray(values, shape);
            var y = layer.Forward(x);
            Assert.That(y.Shape, Is.EqualTo(shape), "y is shaped as x");
            Assert.That(y.ToArray(), Is.EqualTo(expected), "the rows are the leading positions");
            Assert.That(layer.Forward(x), Is.SameAs(y), "the output buffer is reused");
            using var dyShaped = device.FromArray(dy, shape);
            layer.Parameters.ZeroGradients();
            var dx = layer.Backward(dyShaped);
            Assert.That(dx.Shape, Is.EqualTo(shape), "dx is shaped as x");
            Assert.That(dx.ToArray(), Is.EqualTo(expectedDx));
            Assert.That(layer.Parameters.Gradients.ToArray(), Is.EqualTo(expectedGradients));
        }

        using var row = device.FromArray(values[..6], 6);
        Assert.That(layer.Forward(row).ToArray(), Is.EqualTo(expected[..6]), "a rank-1 input is one row");
    }

    [Test]
    public void AWrongLastDimensionIsRefusedInOneLineAndTheLayerGoesOn()
    {
        var device = TestDevices.Get("cpu");
        using var layer = new LayerNorm(6);
        layer.Build(device);
        using var gradient = device.Zeros(2, 6);
        Assert.Throws<InvalidOperationException>(() => layer.Backward(gradient), "Backward before Forward");
        using var wrong = device.Zeros(2, 3, 5);
        var error = Assert.Throws<ArgumentException>(() => layer.Forward(wrong))!;
        Assert.That(error.Message, Does.Contain("LayerNorm(6)").And.Contain("[2, 3, 5]").And.Not.Contain('\n'));
        using var right = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 1, 6);
        Assert.That(layer.Forward(right).ToArray().Sum(), Is.EqualTo(0f).Within(1e-6), "the layer still works");

        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LayerNorm(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LayerNorm(4, epsilon: -1e-5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new LayerNorm(4, epsilon: float.NaN));
    }

    private static Sequential Model(string variant) => new(
        new Linear(4, 6),
        new LayerNorm(6, elementwiseAffine: variant != "no_affine", bias: variant == "affine"),
        new Tanh(),
        new Linear(6, 3));
}
