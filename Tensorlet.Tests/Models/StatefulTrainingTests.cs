using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// Stateful batching: the LSTM or GRU state carried from batch to batch of a <see cref="StreamBatchSource"/> makes the
/// forward pass identical to one long unrolled pass over each stream, which the float64 references compute
/// (<see cref="ReferenceLstmModel"/>; <see cref="ReferenceGruModel"/> on one-hot input, with the Linear head and the
/// cross-entropy in float64 here). The trainer carries it for both char models and for a module tree that holds a GRU.
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
        var carried = BatchLosses(device, source, x => model.Logits(x, Streams, training: false, step: 0, initialState: state, finalState: state));
        var fresh = BatchLosses(device, source, x => model.Logits(x, Streams, training: false, step: 0, initialState: null, finalState: null));

        for (int j = 0; j < Batches; j++)
        {
            double expected = BatchLoss(c => PrefixLoss(reference, source, text, c), j);
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
        AssertTheTrainerCarriesTheState(trainer, source, c => PrefixLoss(reference, source, text, c));
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

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void CarriedGruStateGivesTheLossesOfOneLongPassPerStream(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var (parameters, text) = RandomGruParametersAndText(seed: 4);
        var source = new StreamBatchSource(CharIds.FromIds(text, Vocabulary), Streams, SequenceLength);
        Assert.That(source.Batches, Is.EqualTo(Batches));

        using var model = new GruCharModel(device, Vocabulary, Hidden, Layers, dropout: 0f, seed: 0);
        LoadGru(model, parameters);
        using var state = model.Gru.CreateState(device, Streams);
        var carried = BatchLosses(device, source, x => model.Logits(x, Streams, training: false, step: 0, initialState: state, finalState: state));
        var fresh = BatchLosses(device, source, x => model.Logits(x, Streams, training: false, step: 0, initialState: null, finalState: null));

        for (int j = 0; j < Batches; j++)
        {
            double expected = BatchLoss(c => GruPrefixLoss(parameters, source, text, c), j);
            Assert.That(carried[j], Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), $"batch {j} with the state carried");
            if (j > 0)
            {
                Assert.That(fresh[j], Is.Not.EqualTo(expected).Within(1e-3 * Math.Abs(expected)), $"batch {j} from zeros differs");
            }
        }
    }

    [TestCase("char model")]
    [TestCase("module")]
    public void TheTrainerCarriesTheGruStateThroughAnEpochAndStartsEachEpochFromZeros(string form)
    {
        var device = TestDevices.Get("cpu");
        var (parameters, text) = RandomGruParametersAndText(seed: 5);
        var source = new StreamBatchSource(CharIds.FromIds(text, Vocabulary), Streams, SequenceLength);
        var options = new TrainerOptions { BatchSize = Streams, Epochs = 2, Seed = 1 };
        using var charModel = new GruCharModel(device, Vocabulary, Hidden, Layers, dropout: 0f, seed: 0);
        using var module = new Sequential(("gru", new Gru(Vocabulary, Hidden, Layers)), ("output", new Linear(Hidden, Vocabulary)));
        module.Build(device);
        using var loss = new CrossEntropyLoss();
        Module model = form == "module" ? module : charModel;
        LoadGru(model, parameters);

        // Learning rate 0: the weights stay the reference's, so the training losses are pure forward passes.
        using var adam = new Adam(model.Parameters, learningRate: 0f);
        var trainer = new Trainer(form == "module" ? module : charModel, loss, adam, options);
        AssertTheTrainerCarriesTheState(trainer, source, c => GruPrefixLoss(parameters, source, text, c));
        Assert.That(form == "module" ? ((RnnBase)module[0]).CarryState : charModel.CarryState, Is.False, "training leaves the model stateless");
    }

    [Test]
    public void ATrainerResumedInTheMiddleOfAnEpochContinuesTheStateGivenByCarryFrom()
    {
        var device = TestDevices.Get("cpu");
        var (parameters, text) = RandomGruParametersAndText(seed: 6);
        var source = new StreamBatchSource(CharIds.FromIds(text, Vocabulary), Streams, SequenceLength);
        using var model = new GruCharModel(device, Vocabulary, Hidden, Layers, dropout: 0f, seed: 0);
        LoadGru(model, parameters);

        // The state after batch 0, as the stopped run carried it.
        using var state = model.Gru.CreateState(device, Streams);
        var inputs = new int[Streams * SequenceLength];
        source.Fill([.. Enumerable.Range(0, Streams)], inputs, new int[inputs.Length], new int[inputs.Length]);
        using (var x = device.IndexFromArray(inputs, inputs.Length))
        {
            model.Logits(x, Streams, training: false, step: 0, initialState: null, finalState: state);
        }

        // A resumed process starts with no carried state; CarryFrom gives it the stopped run's.
        model.ResetState();
        model.Gru.CarryFrom(state);
        using var adam = new Adam(model.Parameters, learningRate: 0f);
        int count = (int)model.Parameters.Length;
        adam.LoadState(new AdamState(1, new float[count], new float[count])); // at the stopped run's step
        using var loss = new CrossEntropyLoss();
        var trainer = new Trainer(model, loss, adam, new TrainerOptions { BatchSize = Streams, Epochs = 1, Seed = 1 });
        var losses = new List<double>();
        trainer.BatchCompleted += p => losses.Add(p.Loss);
        trainer.Train(source, null, start: new TrainingPosition(0, 1, 1));

        Assert.That(losses, Has.Count.EqualTo(Batches - 1));
        for (int j = 1; j < Batches; j++)
        {
            double expected = BatchLoss(c => GruPrefixLoss(parameters, source, text, c), j);
            Assert.That(losses[j - 1], Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), $"batch {j}");
        }

        using var other = model.Gru.CreateState(device, Streams + 1);
        Assert.That(() => model.Gru.CarryFrom(other), Throws.Nothing, "any batch size");
        using var lstm = new Lstm(Vocabulary, Hidden, Layers);
        Assert.That(() => lstm.CarryFrom(state), Throws.ArgumentException, "a GRU state cannot stand for an LSTM's");
    }

    [Test]
    public void StatefulTrainingNeedsARecurrentModule()
    {
        var device = TestDevices.Get("cpu");
        var source = new StreamBatchSource(CharIds.FromIds(new int[40], Vocabulary), Streams, SequenceLength);
        using var model = new Sequential(new Embedding(Vocabulary, Hidden), new Linear(Hidden, Vocabulary));
        model.Build(device);
        using var loss = new CrossEntropyLoss();
        using var adam = new Adam(model.Parameters);
        var trainer = new Trainer(model, loss, adam, new TrainerOptions { BatchSize = Streams });

        Assert.That(() => trainer.Train(source, null), Throws.ArgumentException.With.Message.Contains("needs a model with an LSTM or a GRU"));
    }

    // The mean per-row loss of each batch, taken in order, from `logits` (the model's Logits with the state each test
    // carries, or none).
    private static double[] BatchLosses(Device device, StreamBatchSource source, Func<IndexTensor, Tensor> logits)
    {
        int rows = Streams * SequenceLength;
        var inputs = new int[rows];
        var targets = new int[rows];
        var positions = new int[rows];
        var result = new double[source.Batches];
        for (int j = 0; j < source.Batches; j++)
        {
            source.Fill(Enumerable.Range(j * Streams, Streams).ToArray(), inputs, targets, positions);
            using var x = device.IndexFromArray(inputs, rows);
            var values = logits(x).ToArray();
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                sum += CrossEntropy([.. values.AsSpan(r * Vocabulary, Vocabulary).ToArray().Select(v => (double)v)], targets[r]);
            }

            result[j] = sum / rows;
        }

        return result;
    }

    // Trains two epochs at learning rate 0 (the losses are pure forward passes) and checks every batch's loss and the
    // validation loss over the same streams against the long pass's, whose mean over the first c chunks is prefixLoss(c).
    private static void AssertTheTrainerCarriesTheState(Trainer trainer, StreamBatchSource source, Func<int, double> prefixLoss)
    {
        var losses = new List<double>();
        trainer.BatchCompleted += p => losses.Add(p.Loss);
        var result = trainer.Train(source, validation: source);

        Assert.That(losses, Has.Count.EqualTo(2 * Batches));
        for (int j = 0; j < Batches; j++)
        {
            double expected = BatchLoss(prefixLoss, j);
            Assert.That(losses[j], Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), $"epoch 1 batch {j}");
            Assert.That(losses[Batches + j], Is.EqualTo(expected).Within(1e-5 * Math.Abs(expected)), $"epoch 2 batch {j}");
        }

        // The validation pass over the same streams carries the state too: its mean is the long pass's.
        double whole = prefixLoss(Batches);
        Assert.That(result.Epochs[^1].Validation!.Loss, Is.EqualTo(whole).Within(1e-5 * whole));
    }

    // Batch j's mean is the difference of the long pass's means over the first j + 1 and j chunks of every stream.
    private static double BatchLoss(Func<int, double> prefixLoss, int j) => ((j + 1) * prefixLoss(j + 1)) - (j * prefixLoss(j));

    private static double CrossEntropy(double[] logits, int target)
    {
        double max = logits.Max();
        return Math.Log(logits.Sum(v => Math.Exp(v - max))) + max - logits[target];
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

    // The float64 mean loss over the first `chunks` chunks of every stream, each stream from a zero state: the reference
    // GRU on one-hot input, then the Linear head and the cross-entropy.
    private static double GruPrefixLoss(Dictionary<string, double[]> parameters, StreamBatchSource source, int[] text, int chunks)
    {
        if (chunks == 0)
        {
            return 0;
        }

        int steps = chunks * SequenceLength;
        var reference = new ReferenceGruModel(Vocabulary, Hidden, Layers) { OutputWeights = new double[steps * Streams * Hidden] };
        foreach (var (name, _) in ReferenceGruModel.ParameterShapes(Vocabulary, Hidden, Layers))
        {
            reference.Parameters[name] = parameters[name];
        }

        var x = new double[steps * Streams * Vocabulary];
        for (int t = 0; t < steps; t++)
        {
            for (int s = 0; s < Streams; s++)
            {
                x[(((t * Streams) + s) * Vocabulary) + text[(s * source.StreamLength) + t]] = 1;
            }
        }

        reference.Parameters["x"] = x;
        var h = new double[steps * Streams * Hidden];
        reference.Loss(steps, Streams, output: h);
        var weight = parameters["output.weight"];
        var bias = parameters["output.bias"];
        var logits = new double[Vocabulary];
        double sum = 0;
        for (int t = 0; t < steps; t++)
        {
            for (int s = 0; s < Streams; s++)
            {
                int row = (t * Streams) + s;
                for (int v = 0; v < Vocabulary; v++)
                {
                    logits[v] = bias[v];
                    for (int i = 0; i < Hidden; i++)
                    {
                        logits[v] += weight[(v * Hidden) + i] * h[(row * Hidden) + i];
                    }
                }

                sum += CrossEntropy(logits, text[(s * source.StreamLength) + t + 1]);
            }
        }

        return sum / (steps * Streams);
    }

    private static void LoadGru(Module model, Dictionary<string, double[]> parameters)
        => model.LoadStateDict(parameters.ToDictionary(p => p.Key, p => (model.Parameters[p.Key].Shape.ToArray(), p.Value.Select(x => (float)x).ToArray())));

    private static (Dictionary<string, double[]> Parameters, int[] Text) RandomGruParametersAndText(int seed)
    {
        var random = new Random(seed);
        var shapes = ReferenceGruModel.ParameterShapes(Vocabulary, Hidden, Layers)
            .Append(("output.weight", [Vocabulary, Hidden]))
            .Append(("output.bias", [Vocabulary]));
        var parameters = shapes.ToDictionary<(string Name, int[] Shape), string, double[]>(
            s => s.Name,
            s => Enumerable.Range(0, s.Shape.Aggregate(1, (a, b) => a * b)).Select(_ => (random.NextDouble() * 1.6) - 0.8).ToArray());

        // Streams of 14 characters: 3 chunks of 4 steps need 13; 2 characters are left over at the end.
        var text = Enumerable.Range(0, (Streams * 14) + 2).Select(_ => random.Next(Vocabulary)).ToArray();
        return (parameters, text);
    }
}
