using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The char models train through the one module Trainer (with a CrossEntropyLoss) exactly as through their own
/// ForwardLoss and Evaluator: the same batch losses, per-position validation sums, dropout masks (keyed by the model's
/// DropoutSeed, not the trainer's seed) and weights, bit for bit; statefully too.
/// </summary>
public sealed class CharModelTrainerTests
{
    private const int Vocabulary = 7;

    [TestCase("lstm")]
    [TestCase("gru")]
    [TestCase("rnn")]
    [TestCase("ngram")]
    public void ACharModelTrainsThroughTheTrainerAsThroughItsOwnForwardLoss(string kind)
    {
        using var device = Device.Create("cpu");
        var (train, validation) = kind == "ngram" ? Windows() : Sequences();
        AssertTheTrainerTakesTheOwnLoopsSteps(kind, device, train, validation, new TrainerOptions { Epochs = 3, BatchSize = 8, Seed = 1 }, stateful: false);
    }

    [Test]
    public void AStatefulLstmTrainsThroughTheTrainerAsThroughItsOwnForwardLoss()
    {
        using var device = Device.Create("cpu");
        var random = new Random(3);
        var ids = CharIds.FromIds([.. Enumerable.Range(0, 600).Select(_ => random.Next(Vocabulary))], Vocabulary);
        var train = new StreamBatchSource(ids.Slice(0, 480), streams: 4, sequenceLength: 10);
        var validation = new StreamBatchSource(ids.Slice(480, 120), streams: 4, sequenceLength: 10);
        AssertTheTrainerTakesTheOwnLoopsSteps("lstm", device, train, validation, new TrainerOptions { Epochs = 2, BatchSize = 4, Seed = 1 }, stateful: true);
    }

    private static void AssertTheTrainerTakesTheOwnLoopsSteps(string kind, Device device, IBatchSource train, IBatchSource validation, TrainerOptions options, bool stateful)
    {
        using var model = Create(kind, device);
        using var adam = new Adam(model.Parameters, 1e-2f);
        using var loss = new CrossEntropyLoss();
        var trainer = new Trainer((Module)model, loss, adam, options);
        var losses = new List<double>();
        trainer.BatchCompleted += p => losses.Add(p.Loss);
        var result = trainer.Train(train, validation);

        using var reference = Create(kind, device);
        using var referenceAdam = new Adam(reference.Parameters, 1e-2f);
        var (referenceLosses, referenceValidation) = OwnLoop(reference, referenceAdam, train, validation, options, stateful);

        Assert.That(losses, Is.EqualTo(referenceLosses));
        AssertSameValidation(result.Epochs.Select(e => e.Validation!).ToList(), referenceValidation);
        Assert.That(model.Parameters.Values.ToArray(), Is.EqualTo(reference.Parameters.Values.ToArray()));
    }

    // The char models with dropout between layers, seeded apart from the trainer's seed.
    private static ICharModel Create(string kind, Device device) => kind switch
    {
        "lstm" => new LstmCharModel(device, Vocabulary, 16, 2, dropout: 0.5f, seed: 9),
        "gru" => new GruCharModel(device, Vocabulary, 16, 2, dropout: 0.5f, seed: 9),
        "rnn" => new ElmanCharModel(device, Vocabulary, 16, 2, dropout: 0.5f, seed: 9),
        _ => new NgramMlp(device, 30, Vocabulary, 12, Activation.Relu, seed: 9),
    };

    // What the trainer did for a char model before it took modules only: ForwardLoss, Backward, the mean of the row
    // losses on the host, Adam's step; then Evaluator.Evaluate on the validation set (the LSTM state carried for streams).
    private static (List<double> Losses, List<EvaluationResult> Validation) OwnLoop(
        ICharModel model, Adam adam, IBatchSource train, IBatchSource validation, TrainerOptions options, bool stateful)
    {
        var losses = new List<double>();
        var validations = new List<EvaluationResult>();
        var lstm = model as LstmCharModel;
        using var buffers = new BatchBuffers<int, int>(model.Device, train, options.BatchSize);
        long step = 0;
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = stateful ? [.. Enumerable.Range(0, train.Count)] : Trainer.EpochOrder(train.Count, options.Seed, epoch);
            if (stateful)
            {
                lstm!.CarryState = true;
                lstm.ResetState();
            }

            for (int from = 0; from < train.Count; from += options.BatchSize)
            {
                int n = Math.Min(options.BatchSize, train.Count - from);
                var (inputs, targets) = buffers.Load(order.AsSpan(from, n));
                adam.ZeroGradients();
                var rows = model.ForwardLoss((IndexTensor)inputs, (IndexTensor)targets, n, training: true, step: ++step).ToArray();
                model.Backward();
                losses.Add(rows.Sum(r => (double)r) / rows.Length);
                adam.Step();
            }

            if (lstm is not null)
            {
                lstm.CarryState = stateful;
                lstm.ResetState();
            }

            validations.Add(Evaluator.Evaluate(model, validation, stateful ? ((StreamBatchSource)validation).Streams : options.BatchSize));
            if (lstm is not null)
            {
                lstm.CarryState = false;
                lstm.ResetState();
            }
        }

        return (losses, validations);
    }

    private static void AssertSameValidation(List<EvaluationResult> actual, List<EvaluationResult> expected)
    {
        Assert.That(actual, Has.Count.EqualTo(expected.Count));
        for (int i = 0; i < actual.Count; i++)
        {
            Assert.That(actual[i].LossSumByPosition, Is.EqualTo(expected[i].LossSumByPosition), $"epoch {i + 1}: loss sums by position");
            Assert.That(actual[i].CountByPosition, Is.EqualTo(expected[i].CountByPosition), $"epoch {i + 1}: counts by position");
        }
    }

    private static (IBatchSource Train, IBatchSource Validation) Sequences()
    {
        var random = new Random(2);
        int[] Ids(int count) => [.. Enumerable.Range(0, count * 12).Select(_ => random.Next(Vocabulary))];
        return (new SequenceBatchSource(Ids(30), 12), new SequenceBatchSource(Ids(10), 12));
    }

    private static (IBatchSource Train, IBatchSource Validation) Windows()
    {
        var random = new Random(4);
        WindowBatchSource Make(int count) => new(
            [.. Enumerable.Range(0, count).Select(_ => random.Next(30))],
            [.. Enumerable.Range(0, count).Select(_ => random.Next(Vocabulary))],
            [.. Enumerable.Range(0, count).Select(i => 3 + (i % 5))]);
        return (Make(60), Make(20));
    }
}
