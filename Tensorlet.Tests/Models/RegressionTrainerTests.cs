using NUnit.Framework;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Models;

/// <summary>
/// The Trainer with a loss over values: a Sequential regression trained with MseLoss through the Trainer learns a
/// small function, and takes exactly the steps a hand-written PyTorch-style loop takes.
/// </summary>
public sealed class RegressionTrainerTests
{
    private const int Examples = 64;
    private const int Batch = 12; // 64 = 5·12 + 4: a short last batch

    [TestCase("sgd")]
    [TestCase("adam")]
    public void AnMlpLearnsSineWithMseThroughTheTrainerAndMatchesAHandWrittenLoop(string optimizerName)
    {
        var (x, y) = Sine();
        var source = new TensorBatchSource<float, float>(x, [1], y, [1]);
        var options = new TrainerOptions { Epochs = 40, BatchSize = Batch, Seed = 3 };

        using var device = Device.Create("cpu");
        using var model = Model(device);
        using var loss = new MseLoss();
        using var optimizer = Optimizer(optimizerName, model);
        var trainer = new Trainer(model, loss, optimizer, options);
        var batchLosses = new List<double>();
        trainer.BatchCompleted += progress => batchLosses.Add(progress.Loss);
        var result = trainer.Train(source, source);

        double first = result.Epochs[0].Validation!.Loss, last = result.Epochs[^1].Validation!.Loss;
        double variance = y.Select(v => (double)v * v).Average() - Math.Pow(y.Average(v => (double)v), 2);
        Assert.That(first, Is.GreaterThan(0.1), "untrained, the MSE is near the targets' variance");
        Assert.That(last, Is.LessThan(0.02 * variance), $"trained: validation MSE {first:F4} -> {last:F4}, target variance {variance:F4}");
        Assert.That(result.Epochs[^1].TrainLoss, Is.LessThan(0.02 * variance));

        // The same run by hand: the trainer's epoch order, then Forward, the loss, Backward and the step per batch.
        using var handModel = Model(device);
        using var handLoss = new MseLoss();
        using var handOptimizer = Optimizer(optimizerName, handModel);
        var handLosses = new List<double>();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = Trainer.EpochOrder(Examples, options.Seed, epoch);
            for (int from = 0; from < Examples; from += Batch)
            {
                int n = Math.Min(Batch, Examples - from);
                var rows = order.AsSpan(from, n).ToArray();
                using var inputs = device.FromArray(rows.Select(i => x[i]).ToArray(), n, 1);
                using var targets = device.FromArray(rows.Select(i => y[i]).ToArray(), n, 1);
                handOptimizer.ZeroGradients();
                handLosses.Add(handLoss.Forward(handModel.Forward(inputs), targets));
                handModel.Backward(handLoss.Backward());
                handOptimizer.Step();
            }
        }

        Assert.That(batchLosses, Has.Count.EqualTo(40 * 6));
        Assert.That(batchLosses, Is.EqualTo(handLosses), "every batch's loss, exactly");
        Assert.That(model.Parameters.Parameters.SelectMany(p => p.Value.ToArray()), Is.EqualTo(handModel.Parameters.Parameters.SelectMany(p => p.Value.ToArray())), "the weights, exactly");

        // The last validation is the final model's MSE over every example (batch means weighted by their targets).
        using var all = device.FromArray(x, Examples, 1);
        using var allTargets = device.FromArray(y, Examples, 1);
        double mse = handLoss.Forward(handModel.Forward(all), allTargets);
        Assert.That(last, Is.EqualTo(mse).Within(1e-6).Percent);
    }

    // Before, the Trainer handed MseLoss the batch's targets flat ([24]) and it refused them for a [12, 2] prediction.
    [Test]
    public void SeveralOutputsPerExampleTrainAndValidateThroughTheTrainer()
    {
        var (x, _) = Sine();
        var y = x.SelectMany(v => new[] { MathF.Sin(1.5f * v), MathF.Cos(1.5f * v) }).ToArray();
        var source = new TensorBatchSource<float, float>(x, [1], y, [2]);
        using var device = Device.Create("cpu");
        using var model = new Sequential(new Linear(1, 16), new Tanh(), new Linear(16, 2));
        model.Build(device, seed: 5);
        using var loss = new MseLoss();
        using var optimizer = new Adam(model.Parameters, 0.02f);
        var result = new Trainer(model, loss, optimizer, new TrainerOptions { Epochs = 40, BatchSize = Batch, Seed = 3 }).Train(source, source);

        // The last validation is the MSE of the final model over every example and both outputs.
        using var all = device.FromArray(x, Examples, 1);
        using var allTargets = device.FromArray(y, Examples, 2);
        double mse = loss.Forward(model.Forward(all), allTargets);
        Assert.That(result.Epochs[^1].Validation!.Loss, Is.EqualTo(mse).Within(1e-4).Percent);
        Assert.That(mse, Is.LessThan(0.1 * result.Epochs[0].Validation!.Loss), "it learned");
    }

    [Test]
    public void ALossThatTakesOtherTargetsThanTheSourceGivesIsRefusedInOneLine()
    {
        var (x, y) = Sine();
        using var device = Device.Create("cpu");
        using var model = Model(device);
        using var mse = new MseLoss();
        using var crossEntropy = new CrossEntropyLoss();
        using var sgd = new Sgd(model.Parameters, 0.1f);
        var values = new TensorBatchSource<float, float>(x, [1], y, [1]);
        var classes = new TensorBatchSource<float, int>(x, [1], [.. y.Select(v => v > 0 ? 1 : 0)], []);

        var ex = Assert.Throws<ArgumentException>(() => new Trainer(model, crossEntropy, sgd, new TrainerOptions()).Train(values, null));
        Assert.That(ex!.Message, Does.Contain("CrossEntropyLoss takes class ids"));
        ex = Assert.Throws<ArgumentException>(() => new Trainer(model, mse, sgd, new TrainerOptions()).Train(classes, null));
        Assert.That(ex!.Message, Does.Contain("MseLoss takes values"));
    }

    [Test]
    public void ATensorBatchSourceGivesRowsOfItsArraysInTheTrainersOrder()
    {
        var source = new TensorBatchSource<float, int>([0, 1, 10, 11, 20, 21], [2], [5, 6, 7], []);
        Assert.That((source.Count, source.InputsPerExample, source.TargetsPerExample, source.RowsPerExample), Is.EqualTo((3, 2, 1, 1)));
        Assert.That(source.InputShape(2), Is.EqualTo(new[] { 2, 2 }));
        var inputs = new float[4];
        var targets = new int[2];
        var positions = new[] { 9, 9 };
        source.Fill([2, 0], inputs, targets, positions);
        Assert.That(inputs, Is.EqualTo(new float[] { 20, 21, 0, 1 }));
        Assert.That(targets, Is.EqualTo(new[] { 7, 5 }));
        Assert.That(positions, Is.EqualTo(new[] { 0, 0 }));
        Assert.Throws<ArgumentException>(() => _ = new TensorBatchSource<float, float>([1, 2, 3], [2], [1, 2], [1]));
    }

    private static (float[] X, float[] Y) Sine()
    {
        var x = new float[Examples];
        var y = new float[Examples];
        for (int i = 0; i < Examples; i++)
        {
            x[i] = -2f + (4f * i / (Examples - 1));
            y[i] = MathF.Sin(1.5f * x[i]);
        }

        return (x, y);
    }

    private static Sequential Model(Device device)
    {
        var model = new Sequential(new Linear(1, 16), new Tanh(), new Linear(16, 1));
        model.Build(device, seed: 5);
        return model;
    }

    private static IOptimizer Optimizer(string name, Module model) => name == "sgd"
        ? new Sgd(model.Parameters, 0.1f, momentum: 0.9f)
        : new Adam(model.Parameters, 0.02f);
}
