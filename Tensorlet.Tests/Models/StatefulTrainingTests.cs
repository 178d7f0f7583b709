using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// Stateful batching: the LSTM state carried from batch to batch of a <see cref="StreamBatchSource"/> makes the
/// forward pass identical to one long unrolled pass over each stream, which the float64 reference computes.
/// </summary>
public sealed class StatefulTrainingTests
{
    private const int Vocabulary = 6;
    private const int Hidden = 5;
    private const int Layers = 2;
    private const int Streams = 3;
    private const int SequenceLength = 4;
    private const int Batches = 3;

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void CarriedStateGivesTheLossesOfOneLongPassPerStream(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var (reference, text) = RandomModelAndText(seed: 4);
        var source = new StreamBatchSource(CharIds.FromIds(text, Vocabulary), Streams, SequenceLength);
        Assert.That(source.Batches, Is.EqualTo(Batches));

        using var model = Load(device, reference);
        using var state = model.Lstm.CreateState(device, Streams);
        var carried = BatchLosses(model, source, state);
        var fresh = BatchLosses(model, source, null);

        for (int j = 0; j < Batches; j++)
        {
            // Batch j's mean is the difference of the reference's means over the first j + 1 and j chunks of every stream.
            double expected = ((j + 1) * PrefixLoss(reference, source, text, j + 1)) - (j * PrefixLoss(reference, source, text, j));
            Assert.That(carried[j], Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), $"batch {j} with the state carried");
            if (j > 0)
            {
                Assert.That(fresh[j], Is.Not.EqualTo(expected).Within(1e-3 * Math.Abs(expected)), $"batch {j} from zeros differs");
            }
        }
    }

    [Test]
    public void TheTrainerCarriesTheStateThroughAnEpochAndStartsEachEpochFromZeros()
    {
        var device = TestDevices.Get("cpu");
        var (reference, text) = RandomModelAndText(seed: 5);
        var source = new StreamBatchSource(CharIds.FromIds(text, Vocabulary), Streams, SequenceLength);
        using var model = Load(device, reference);

        // Learning rate 0: the weights stay the reference's, so the training losses are pure forward passes.
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters, learningRate: 0f), new TrainerOptions { BatchSize = Streams, Epochs = 2, Seed = 1 });
        var losses = new List<double>();
        trainer.BatchCompleted += p => losses.Add(p.Loss);
        var result = trainer.Train(source, validation: source);

        Assert.That(losses, Has.Count.EqualTo(2 * Batches));
        for (int j = 0; j < Batches; j++)
        {
            double expected = ((j + 1) * PrefixLoss(reference, source, text, j + 1)) - (j * PrefixLoss(reference, source, text, j));
            Assert.That(losses[j], Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), $"epoch 1 batch {j}");
            Assert.That(losses[Batches + j], Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), $"epoch 2 batch {j}");
        }

        // The validation pass over the same streams carries the state too: its mean is the long pass's.
        double whole = PrefixLoss(reference, source, text, Batches);
        Assert.That(result.Epochs[^1].Validation!.Loss, Is.EqualTo(whole).Within(1e-5 * whole));
        Assert.That(model.CarryState, Is.False, "training leaves the model stateless");
    }

    [Test]
    public void StatefulTrainingNeedsOneStreamPerBatchRowAndARecurrentModel()
    {
        var device = TestDevices.Get("cpu");
        var source = new StreamBatchSource(CharIds.FromIds(new int[40], Vocabulary), Streams, SequenceLength);
        using var model = new LstmCharModel(device, Vocabulary, Hidden, 1, 0f, seed: 1);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters), new TrainerOptions { BatchSize = Streams + 1 });

        Assert.That(() => trainer.Train(source, null), Throws.ArgumentException.With.Message.Contains("one stream per batch row"));
    }

    // The mean per-row loss of each batch, taken in order, starting every batch from `state` (which each batch updates)
    // or from zeros when it is null.
    private static double[] BatchLosses(LstmCharModel model, StreamBatchSource source, LstmState? state)
    {
        var device = model.Device;
        int rows = Streams * SequenceLength;
        var inputs = new int[rows];
        var targets = new int[rows];
        var positions = new int[rows];
        var result = new double[source.Batches];
        for (int j = 0; j < source.Batches; j++)
        {
            source.Fill(Enumerable.Range(j * Streams, Streams).ToArray(), inputs, targets, positions);
            using var x = device.IndexFromArray(inputs, rows);
            var logits = model.Logits(x, Streams, training: false, step: 0, initialState: state, finalState: state).ToArray();
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                var row = logits.AsSpan(r * Vocabulary, Vocabulary);
                double max = row.ToArray().Max();
                double logSum = Math.Log(row.ToArray().Sum(v => Math.Exp(v - max))) + max;
                sum += logSum - row[targets[r]];
            }

            result[j] = sum / rows;
        }

        return result;
    }

    // The float64 reference's mean loss over the first `chunks` chunks of every stream, each stream from a zero state.
    private static double PrefixLoss(ReferenceLstmModel reference, StreamBatchSource source, int[] text, int chunks)
    {
        if (chunks == 0)
        {
            return 0;
        }

        int steps = chunks * SequenceLength;
        var inputs = new int[Streams, steps];
        var targets = new int[Streams, steps];
        for (int s = 0; s < Streams; s++)
        {
            for (int t = 0; t < steps; t++)
            {
                inputs[s, t] = text[(s * source.StreamLength) + t];
                targets[s, t] = text[(s * source.StreamLength) + t + 1];
            }
        }

        return reference.Loss(inputs, targets);
    }

    private static LstmCharModel Load(Device device, ReferenceLstmModel reference)
    {
        var model = new LstmCharModel(device, Vocabulary, Hidden, Layers, dropout: 0f, seed: 0);
        model.Parameters.Load(reference.Parameters.ToDictionary(p => p.Key, p => (model.Parameters[p.Key].Shape.ToArray(), p.Value.Select(x => (float)x).ToArray())));
        return model;
    }

    private static (ReferenceLstmModel Model, int[] Text) RandomModelAndText(int seed)
    {
        var random = new Random(seed);
        var model = new ReferenceLstmModel(Vocabulary, Hidden, Layers);
        foreach (var (name, shape) in ReferenceLstmModel.ParameterShapes(Vocabulary, Hidden, Layers))
        {
            model.Parameters[name] = [.. Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (random.NextDouble() * 1.6) - 0.8)];
        }

        // Streams of 14 characters: 3 chunks of 4 steps need 13; 2 characters are left over at the end.
        var text = Enumerable.Range(0, (Streams * 14) + 2).Select(_ => random.Next(Vocabulary)).ToArray();
        return (model, text);
    }
}
