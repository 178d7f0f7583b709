using NUnit.Framework;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

public sealed class SequenceClassificationBatchSourceTests
{
    [Test]
    public void ABatchIsTimeMajorWithOneClassIdPerSequence()
    {
        // Three examples of four steps; a batch of examples 2 and 0.
        var source = new SequenceClassificationBatchSource([10, 11, 12, 13, 20, 21, 22, 23, 30, 31, 32, 33], 4, [7, 8, 9]);
        var inputs = new int[8];
        var targets = new int[2];
        var positions = new int[2];

        source.Fill([2, 0], inputs, targets, positions);

        Assert.That((source.Count, source.InputsPerExample, source.RowsPerExample), Is.EqualTo((3, 4, 1)));
        Assert.That(inputs, Is.EqualTo(new[] { 30, 10, 31, 11, 32, 12, 33, 13 }), "element t·B + b is step t of sequence b");
        Assert.That(targets, Is.EqualTo(new[] { 9, 7 }));
        Assert.That(((IBatchSource<int, int>)source).InputShape(2), Is.EqualTo(new[] { 4, 2 }));
        Assert.That(source.Label(1), Is.EqualTo(8));
    }

    [Test]
    public void ArraysThatAreNotWholeExamplesOrNegativeIdsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => _ = new SequenceClassificationBatchSource([1, 2, 3], 2, [0, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SequenceClassificationBatchSource([1, 2], 0, [0, 1]));
        Assert.That(
            () => _ = new SequenceClassificationBatchSource([1, -2], 1, [0, 1]),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("Token ids are at least 0; element 1 is -2. (Parameter 'tokens')"));
        Assert.That(
            () => _ = new SequenceClassificationBatchSource([1, 2], 1, [0, -1]),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("Class ids are at least 0; example 1's is -1. (Parameter 'labels')"));
    }

    [Test]
    public void AnLstmClassifierLearnsWhichTokenEndsTheSequence()
    {
        // The class is the last of 12 tokens: a model that read the batch the wrong way round (B steps of 12 sequences)
        // could not learn it. Loss from ln 4 to near 0.
        const int steps = 12, examples = 96, vocabulary = 4;
        var random = new Random(3);
        var tokens = Enumerable.Range(0, examples * steps).Select(_ => random.Next(vocabulary)).ToArray();
        var labels = Enumerable.Range(0, examples).Select(i => tokens[(i * steps) + steps - 1]).ToArray();
        var source = new SequenceClassificationBatchSource(tokens, steps, labels);
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Embedding(vocabulary, 8), new Lstm(8, 16), new Slice(-1, 1), new Linear(16, vocabulary));
        model.Build(device, seed: 1);
        using var loss = new CrossEntropyLoss();
        using var adam = new Adam(model.Parameters, 0.02f);
        var trainer = new Trainer(model, loss, adam, new TrainerOptions { Epochs = 30, BatchSize = 16, Seed = 2 });

        var result = trainer.Train(source, source);

        Assert.That(result.Epochs[0].Validation!.Loss, Is.GreaterThan(1.0));
        Assert.That(result.Epochs[^1].Validation!.Loss, Is.LessThan(0.1));
    }
}
