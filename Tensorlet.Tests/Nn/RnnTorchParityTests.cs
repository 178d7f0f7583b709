using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Nn.ModuleTorchParityTests;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// <see cref="Rnn"/> against PyTorch 1.13's nn.RNN (the fixture of scripts/make_rnn_fixtures.py; see its header), on
/// every device: two layers, tanh and relu, time-major and batch-first, dense input and token ids, unidirectional and
/// bidirectional, from a zero and from a nonzero initial state; the output, the final state, every parameter gradient,
/// the input gradient and the parameters after three Adam steps, at ModuleTorchParityTests' tolerances; and its
/// state_dict, PyTorch's names in PyTorch's order, loaded into a fresh module and saved back unchanged. The float64
/// check of the backward is RecurrenceFiniteDifferenceTests.
/// </summary>
public sealed class RnnTorchParityTests
{
    private const int Hidden = 4;
    private const int Layers = 2;
    private const int Batch = 3;
    private const int Steps = 5;

    private static IEnumerable<TestCaseData> ParityCases() =>
        from name in new[] { "tanh", "relu_bf", "bi", "bi_relu_bf" }
        from device in TestDevices.All
        select new TestCaseData(name, device);

    [TestCaseSource(nameof(ParityCases))]
    public void ATwoLayerRnnMatchesPyTorchOutputsStatesGradientsAndAdam(string name, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/rnn.safetensors"));
        bool ids = fixture.Tensors.ContainsKey($"{name}.ids");
        bool batchFirst = name.EndsWith("_bf", StringComparison.Ordinal);
        bool bidirectional = name.StartsWith("bi", StringComparison.Ordinal);
        int directions = bidirectional ? 2 : 1;
        int width = ids ? 6 : 3;
        using var rnn = new Rnn(width, Hidden, Layers, Nonlinearity(name), batchFirst: batchFirst, bidirectional: bidirectional);
        rnn.Build(device);
        Load(rnn, fixture, name);

        int[] sequence = batchFirst ? [Batch, Steps] : [Steps, Batch];
        using (var x = ids ? null : device.FromArray(fixture[$"{name}.x"].Data, [.. sequence, width]))
        using (var tokens = ids ? device.IndexFromArray(fixture[$"{name}.ids"].ToInt32Array(), sequence) : null)
        {
            AssertClose((tokens is null ? rnn.Forward(x!) : rnn.Forward(tokens)).ToArray(), fixture[$"{name}.zero.out"].Data, 1e-5, "zero.out");
            AssertClose(FinalHidden(rnn), fixture[$"{name}.zero.h_n"].Data, 1e-5, "zero.h_n");
        }

        using var initial = rnn.CreateState(device, Batch);
        int each = Batch * Hidden;
        for (int j = 0; j < directions * Layers; j++)
        {
            initial.Hidden[j].CopyFrom(fixture[$"{name}.h0"].Data.AsSpan(j * each, each));
        }

        rnn.InitialState = initial;
        RecurrentParity.AssertRunGradientsAndAdamMatch(rnn, device, fixture, name, () => [("h_n", FinalHidden(rnn))]);
    }

    [TestCase("tanh")]
    [TestCase("bi_relu_bf")]
    public void ItsStateDictHasPyTorchsNamesShapesAndOrderAndRoundTrips(string name)
    {
        var device = TestDevices.Get("cpu");
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/rnn.safetensors"));
        bool bidirectional = name.StartsWith("bi", StringComparison.Ordinal);
        using var rnn = new Rnn(3, Hidden, Layers, Nonlinearity(name), bidirectional: bidirectional);
        rnn.Build(device, seed: 3);
        string[] torchNames =
            [.. from k in new[] { 0, 1 } from d in bidirectional ? new[] { "", "_reverse" } : [""] from p in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" } select $"{p}_l{k}{d}"];
        var saved = rnn.StateDict();
        Assert.That(saved.Keys, Is.EqualTo(torchNames), "PyTorch's names, in its order");
        foreach (var key in torchNames)
        {
            Assert.That(saved[key].Shape, Is.EqualTo(fixture[$"{name}.{key}"].Shape), $"{key}: PyTorch's shape");
        }

        // The initialisation is PyTorch's: every weight and bias within ±1/√H.
        Assert.That(saved.Values.SelectMany(v => v.Data).Max(v => Math.Abs(v)), Is.LessThanOrEqualTo(1 / Math.Sqrt(Hidden)));

        Load(rnn, fixture, name);
        using var fresh = new Rnn(3, Hidden, Layers, Nonlinearity(name), bidirectional: bidirectional);
        fresh.Build(device, seed: 7);
        fresh.LoadStateDict(rnn.StateDict());
        foreach (var (key, (shape, data)) in fresh.StateDict())
        {
            Assert.That(data, Is.EqualTo(fixture[$"{name}.{key}"].Data), $"{key} after the round trip");
            Assert.That(shape, Is.EqualTo(fixture[$"{name}.{key}"].Shape), $"{key} shape after the round trip");
        }
    }

    private static RnnNonlinearity Nonlinearity(string name) => name.Contains("relu", StringComparison.Ordinal) ? RnnNonlinearity.Relu : RnnNonlinearity.Tanh;

    // The fixture's parameters of case `name`, by their PyTorch names.
    private static void Load(Rnn rnn, SafeTensorsFile fixture, string name)
        => rnn.LoadStateDict(rnn.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[$"{name}.{p.Name}"].Data)));

    private static float[] FinalHidden(Rnn rnn) => [.. rnn.FinalState!.Hidden.SelectMany(t => t.ToArray())];
}
