using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Sampling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Nn.ModuleTorchParityTests;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// <see cref="Lstm"/> and <see cref="Gru"/> with bidirectional: true against PyTorch 1.13 (the fixture of
/// scripts/make_bidirectional_fixtures.py; see its header), on every device: two layers, time-major and batch-first,
/// dense input and token ids, from a nonzero initial state [2·layers, B, H]; the output [.., 2H], the final states,
/// every parameter gradient, the input gradient and the parameters after three Adam steps, at ModuleTorchParityTests'
/// tolerances. The float64 check of the backward is RecurrenceFiniteDifferenceTests; the refusals of state carrying
/// and of a state of the unidirectional shape are here.
/// </summary>
public sealed class BidirectionalTests
{
    private const int Hidden = 4;
    private const int Layers = 2;
    private const int Batch = 3;
    private const int Steps = 5;

    // PyTorch's named_parameters() and state_dict() order for a two-layer bidirectional module.
    private static readonly string[] TorchNames =
        [.. from k in new[] { 0, 1 } from d in new[] { "", "_reverse" } from p in new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" } select $"{p}_l{k}{d}"];

    private static IEnumerable<TestCaseData> ParityCases() =>
        from name in new[] { "lstm", "lstm_bf", "gru", "gru_bf" }
        from device in TestDevices.All
        select new TestCaseData(name, device);

    [TestCaseSource(nameof(ParityCases))]
    public void ATwoLayerBidirectionalModuleMatchesPyTorchOutputsStatesGradientsAndAdam(string name, string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/rnn_bidirectional.safetensors"));
        bool lstm = name.StartsWith("lstm", StringComparison.Ordinal);
        bool batchFirst = name.EndsWith("_bf", StringComparison.Ordinal);
        bool ids = fixture.Tensors.ContainsKey($"{name}.ids");
        int width = ids ? 6 : 3;
        using RnnBase module = lstm
            ? new Lstm(width, Hidden, Layers, batchFirst: batchFirst, bidirectional: true)
            : new Gru(width, Hidden, Layers, batchFirst: batchFirst, bidirectional: true);
        Assert.That(module.Bidirectional);
        module.Build(device);
        Assert.That(module.StateDict().Keys, Is.EqualTo(TorchNames), "PyTorch's names, in its order");
        Assert.That(module.Parameters["weight_ih_l1_reverse"].Shape, Is.EqualTo(new[] { (lstm ? 4 : 3) * Hidden, 2 * Hidden }), "a layer above the first takes 2H inputs");
        module.LoadStateDict(module.Parameters.Parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), fixture[$"{name}.{p.Name}"].Data)));
        using var initial = InitialState(module, device, fixture, name);

        RecurrentParity.AssertRunGradientsAndAdamMatch(module, device, fixture, name, () =>
        {
            var (hn, cn) = Final(module);
            return cn is null ? [("h_n", hn)] : [("h_n", hn), ("c_n", cn)];
        });
    }

    /// <summary>The reorderings are rebuilt for each new (T, B): a module that ran 5 steps then gives for 2 what a fresh one does.</summary>
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ANewSequenceLengthGivesWhatAFreshModuleGives(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var used = new Gru(3, Hidden, Layers, batchFirst: true, bidirectional: true);
        using var fresh = new Gru(3, Hidden, Layers, batchFirst: true, bidirectional: true);
        used.Build(device, seed: 4);
        fresh.Build(device, seed: 4);
        var random = new Random(2);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        using var longer = device.FromArray(Values(Batch * 5 * 3), Batch, 5, 3);
        using var shorter = device.FromArray(Values(Batch * 2 * 3), Batch, 2, 3);
        var dyValues = Values(Batch * 2 * 2 * Hidden);
        using var dyUsed = device.FromArray(dyValues, Batch, 2, 2 * Hidden);
        using var dyFresh = device.FromArray(dyValues, Batch, 2, 2 * Hidden);
        used.Forward(longer);
        Assert.That(used.Forward(shorter).ToArray(), Is.EqualTo(fresh.Forward(shorter).ToArray()));
        Assert.That(used.Backward(dyUsed)!.ToArray(), Is.EqualTo(fresh.Backward(dyFresh)!.ToArray()));
    }

    [Test]
    public void CarryingTheStateIsRefusedInOneLineAndChangesNothing()
    {
        var device = TestDevices.Get("cpu");
        using var lstm = new Lstm(3, Hidden, Layers, bidirectional: true);
        lstm.Build(device);
        using var state = lstm.CreateState(device, Batch);
        Assert.That(state.Hidden, Has.Count.EqualTo(2 * Layers), "[2·layers, B, H]");

        var carry = Assert.Throws<InvalidOperationException>(() => lstm.CarryState = true)!;
        var carryFrom = Assert.Throws<InvalidOperationException>(() => lstm.CarryFrom(state))!;

        Assert.That(carry.Message, Does.StartWith("CarryState: a bidirectional LSTM cannot carry its state across batches"));
        Assert.That(carryFrom.Message, Does.StartWith("CarryFrom: a bidirectional LSTM cannot carry its state across batches"));
        Assert.That(new[] { carry.Message, carryFrom.Message }, Has.All.Not.Contain('\n'));
        Assert.That(lstm.CarryState, Is.False);
        Assert.That(lstm.FinalState, Is.Null, "no state taken in");
        lstm.CarryState = false;
    }

    [Test]
    public void AStateOfTheUnidirectionalShapeIsRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var gru = new Gru(3, Hidden, Layers, bidirectional: true);
        using var unidirectional = new Gru(3, Hidden, Layers);
        gru.Build(device);
        unidirectional.Build(device);
        using var wrong = unidirectional.CreateState(device, Batch);
        using var x = device.Zeros(Steps, Batch, 3);
        gru.InitialState = wrong;

        var error = Assert.Throws<ArgumentException>(() => gru.Forward(x))!;

        Assert.That(error.Message, Is.EqualTo("The GRU state is for batch 3, 2 layers and hidden size 4, but the input has batch 3 and the GRU 2 × 2 layers (bidirectional) of 4."));
        using var right = gru.CreateState(device, Batch);
        gru.InitialState = right;
        Assert.That(gru.Forward(x).Shape, Is.EqualTo(new[] { Steps, Batch, 2 * Hidden }), "[2·layers, B, H] is taken");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void TheTrainerRefusesABidirectionalModelOnAStreamSourceBeforeTraining(bool asValidation)
    {
        var text = CharIds.FromIds([.. Enumerable.Range(0, 60).Select(i => i % 6)], 6);
        var streams = new StreamBatchSource(text, 3, 4);
        var windows = new SequenceBatchSource([.. Enumerable.Range(0, 30).Select(i => i % 6)], 5);
        using var device = Device.Create("cpu");
        using var model = new Sequential(new Embedding(6, 4), new Gru(4, 5, bidirectional: true), new Linear(10, 6));
        model.Build(device, seed: 1);
        var before = model.Parameters.Parameters.Select(p => p.Value.ToArray()).ToArray();
        using var loss = new CrossEntropyLoss();
        using var optimizer = new Adam(model.Parameters, 0.01f);
        var trainer = new Trainer(model, loss, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 3 });

        var error = Assert.Throws<ArgumentException>(() => _ = asValidation ? trainer.Train(windows, streams) : trainer.Train(streams, null))!;

        Assert.That(error.Message, Does.StartWith("StreamBatchSource carries the recurrent state from batch to batch, but the model's Gru is bidirectional"));
        Assert.That(error.Message, Does.Not.Contain('\n'));
        Assert.That(error.ParamName, Is.EqualTo(asValidation ? "validation" : "train"));
        Assert.That(model.Parameters.Parameters.Select(p => p.Value.ToArray()), Is.EqualTo(before), "nothing trained");
        Assert.That(((Gru)model[1]).CarryState, Is.False);
    }

    [Test]
    public void GenerationFromABidirectionalModelNeedsAWindow()
    {
        using var device = Device.Create("cpu");
        using var model = new Sequential(new Embedding(6, 4), new Lstm(4, 5, bidirectional: true), new Linear(10, 6));
        model.Build(device, seed: 1);

        // Stream checks the model when called, as it checks its other arguments, not at the first id asked for.
        var error = Assert.Throws<ArgumentException>(() => SequenceGenerator.Stream(model, [1, 2], 1f, seed: 1))!;

        Assert.That(error.Message, Does.StartWith("The model's Lstm is bidirectional and cannot carry its state from one id to the next: give a window"));
        Assert.That(Assert.Throws<ArgumentException>(() => SequenceGenerator.Generate(model, [1, 2], 3, 1f, seed: 1))!.Message, Is.EqualTo(error.Message));
        Assert.That(SequenceGenerator.Generate(model, [1, 2], 3, 1f, seed: 1, window: 4), Has.Length.EqualTo(3));
    }

    private static RnnState InitialState(RnnBase module, Device device, SafeTensorsFile fixture, string name)
    {
        int each = Batch * Hidden;
        if (module is Lstm lstm)
        {
            var state = lstm.CreateState(device, Batch);
            for (int j = 0; j < 2 * Layers; j++)
            {
                state.Hidden[j].CopyFrom(fixture[$"{name}.h0"].Data.AsSpan(j * each, each));
                state.Cell[j].CopyFrom(fixture[$"{name}.c0"].Data.AsSpan(j * each, each));
            }

            lstm.InitialState = state;
            return state;
        }

        var gru = (Gru)module;
        var gruState = gru.CreateState(device, Batch);
        for (int j = 0; j < 2 * Layers; j++)
        {
            gruState.Hidden[j].CopyFrom(fixture[$"{name}.h0"].Data.AsSpan(j * each, each));
        }

        gru.InitialState = gruState;
        return gruState;
    }

    private static (float[] Hidden, float[]? Cell) Final(RnnBase module) => module switch
    {
        Lstm lstm => ([.. lstm.FinalState!.Hidden.SelectMany(t => t.ToArray())], [.. lstm.FinalState.Cell.SelectMany(t => t.ToArray())]),
        Gru gru => ([.. gru.FinalState!.Hidden.SelectMany(t => t.ToArray())], null),
        _ => throw new ArgumentException("Not a recurrent module.", nameof(module)),
    };
}
