using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Models;

/// <summary>
/// A stateful run stopped in the middle of an epoch continues exactly when its recurrent module is handed the state it
/// carried (<see cref="RnnBase.CarryFrom"/>): the trainer keeps that state at the resumed position instead of starting
/// from zeros, and the remaining batches' losses equal an uninterrupted epoch's bit for bit.
/// </summary>
public sealed class StatefulResumeTests
{
    private const int Vocabulary = 7;
    private const int Streams = 3;
    private const int SequenceLength = 5;

    [TestCase(ModelKind.Lstm)]
    [TestCase(ModelKind.Gru)]
    public void ResumingMidEpochWithTheCarriedStateGivesTheUninterruptedLosses(ModelKind kind)
    {
        using var device = Device.Create("cpu", 1);
        var random = new Random(3);
        var text = CharIds.FromIds([.. Enumerable.Range(0, 200).Select(_ => random.Next(Vocabulary))], Vocabulary);
        var source = new StreamBatchSource(text, Streams, SequenceLength);
        const int stopAfter = 4;
        Assert.That(source.Batches, Is.GreaterThan(stopAfter + 2));

        var whole = Losses(device, kind, source, stopAfter: null, resume: null);
        var beforeStop = Losses(device, kind, source, stopAfter, resume: null);
        var withState = Losses(device, kind, source, stopAfter, resume: true);
        var fromZeros = Losses(device, kind, source, stopAfter, resume: false);

        Assert.That(beforeStop, Is.EqualTo(whole[..stopAfter]));
        Assert.That(withState, Is.EqualTo(whole[stopAfter..]), "the resumed batches, with the carried state");
        Assert.That(fromZeros[0], Is.Not.EqualTo(whole[stopAfter]), "without it the first resumed batch starts from zeros and differs");
    }

    // The batch losses of one epoch: all of it; or its first stopAfter batches; or (resume set) the batches after them,
    // trained by a second trainer on the same model and optimizer, given the carried state or not.
    private static double[] Losses(Device device, ModelKind kind, StreamBatchSource source, int? stopAfter, bool? resume)
    {
        using var model = (RnnCharModel)(kind == ModelKind.Lstm
            ? CharModelSpec.Lstm(Vocabulary, 6, 2, 0.3f)
            : CharModelSpec.Gru(Vocabulary, 6, 2, 0.3f)).Create(device, seed: 11);
        using var adam = new Adam(model.Parameters, 0.05f);
        using var loss = new CrossEntropyLoss();
        var options = new TrainerOptions { BatchSize = Streams, Epochs = 1, Seed = 1 };
        var losses = new List<double>();
        using var stop = new CancellationTokenSource();
        float[][]? carried = null;
        var first = new Trainer(model, loss, adam, options);
        first.BatchCompleted += progress =>
        {
            losses.Add(progress.Loss);
            if (progress.Batch == stopAfter)
            {
                carried = [.. State(model).Select(t => t.ToArray())];
                stop.Cancel();
            }
        };
        var result = first.Train(source, null, null, stop.Token);
        if (resume is null)
        {
            return [.. losses];
        }

        if (resume == true)
        {
            using RnnState state = model is LstmCharModel lstm ? lstm.Lstm.CreateState(device, Streams) : ((GruCharModel)model).Gru.CreateState(device, Streams);
            var tensors = state is LstmState l ? l.Hidden.Concat(l.Cell).ToArray() : [.. state.Hidden];
            for (int i = 0; i < tensors.Length; i++)
            {
                tensors[i].CopyFrom(carried![i]);
            }

            ((RnnBase)model[0]).CarryFrom(state);
        }

        var resumed = new List<double>();
        var second = new Trainer(model, loss, adam, options);
        second.BatchCompleted += progress => resumed.Add(progress.Loss);
        second.Train(source, null, result.Position);
        return [.. resumed];
    }

    // The state the model carries now: h per layer, then an LSTM's c per layer.
    private static Tensor[] State(RnnCharModel model) => model switch
    {
        LstmCharModel lstm => [.. lstm.Lstm.FinalState!.Hidden, .. lstm.Lstm.FinalState!.Cell],
        GruCharModel gru => [.. gru.Gru.FinalState!.Hidden],
        _ => throw new ArgumentException("not recurrent", nameof(model)),
    };
}
