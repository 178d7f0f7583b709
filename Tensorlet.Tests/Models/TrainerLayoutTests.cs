using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The token-id sources give time-major batches [steps, batch], which a batch-first recurrent module would read with
/// batch and time swapped while every shape still fits; the Trainer refuses that pair before it trains.
/// </summary>
public sealed class TrainerLayoutTests
{
    [TestCase(true)]
    [TestCase(false)]
    public void ABatchFirstModelOnAStreamSourceIsRefusedBeforeTraining(bool asValidation)
    {
        var text = CharIds.FromIds([.. Enumerable.Range(0, 60).Select(i => i % 6)], 6);
        var streams = new StreamBatchSource(text, 3, 4);
        var batchFirst = new TensorBatchSource<int, int>([.. Enumerable.Range(0, 24).Select(i => i % 6)], [4], [0, 1, 2, 3, 4, 5], []);
        using var device = Device.Create("cpu");
        using var model = new Sequential(new Embedding(6, 4), new Lstm(4, 5, batchFirst: true), new Linear(5, 6));
        model.Build(device, seed: 1);
        var before = model.Parameters.Parameters.Select(p => p.Value.ToArray()).ToArray();
        using var loss = new CrossEntropyLoss();
        using var optimizer = new Adam(model.Parameters, 0.01f);
        var trainer = new Trainer(model, loss, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 3 });

        var error = Assert.Throws<ArgumentException>(() => _ = asValidation ? trainer.Train(batchFirst, streams) : trainer.Train(streams, null))!;

        Assert.That(error.Message, Does.StartWith("StreamBatchSource gives time-major batches [steps, batch], but the model's Lstm is batch-first: build it with batchFirst: false."));
        Assert.That(error.ParamName, Is.EqualTo(asValidation ? "validation" : "train"));
        Assert.That(model.Parameters.Parameters.Select(p => p.Value.ToArray()), Is.EqualTo(before), "nothing trained");
    }

    [Test]
    public void ABatchFirstModelTrainsOnATensorSourceWhichIsBatchFirst()
    {
        // [examples, steps] of token ids, one class each.
        int[] tokens = [.. Enumerable.Range(0, 24).Select(i => i % 6)];
        var source = new TensorBatchSource<int, int>(tokens, [4], [0, 1, 2, 3, 4, 5], []);
        using var device = Device.Create("cpu");
        using var model = new Sequential(new Embedding(6, 4), new Gru(4, 5, batchFirst: true), new Slice(-1, 1, dim: 1), new Linear(5, 6));
        model.Build(device, seed: 1);
        using var loss = new CrossEntropyLoss();
        using var optimizer = new Adam(model.Parameters, 0.01f);

        var result = new Trainer(model, loss, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 3 }).Train(source, source);

        Assert.That(result.Epochs, Has.Count.EqualTo(1));
    }
}
