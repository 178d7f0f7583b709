using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Tests.Models;

/// <summary>
/// What the Trainer's reports count for models that are not char models: a target is one term the loss averages over
/// (every value for MseLoss, every class id but the ignored ones for CrossEntropyLoss and NllLoss), and the speeds and the
/// validation count are in targets, and the validation loss is the mean loss per target.
/// </summary>
public sealed class TrainingReportTests
{
    private const int Examples = 30;
    private const int Batch = 8; // 30 = 3·8 + 6: a short last batch
    private const int Seed = 4;
    private static readonly TrainerOptions Options = new() { Epochs = 2, BatchSize = Batch, Seed = Seed };

    [Test]
    public void AnMseRunCountsEveryTargetValue()
    {
        // Two values per example: 2 targets per example, though the loss has one row per example.
        var x = Inputs();
        var y = x.SelectMany(v => new[] { v, -v }).ToArray();
        var source = new TensorBatchSource<float, float>(x, [1], y, [2]);
        using var device = Device.Create("cpu");
        using var model = Model(device);
        using var loss = new MseLoss();
        using var optimizer = new Sgd(model.Parameters, 0.01f);

        var (progress, result) = Run(new Trainer(model, loss, optimizer, Options), source);

        var perExample = Enumerable.Repeat(2, Examples).ToArray();
        AssertCountsTargets(progress, result, perExample);
        Assert.That(result.Epochs[^1].Validation!.Count, Is.EqualTo(2 * Examples));
    }

    [Test]
    public void ACrossEntropyRunCountsTheClassIdsItDoesNotIgnore()
    {
        // A classifier of one value per example, with every third example's class ignored (-100, PyTorch's default).
        var x = Inputs();
        var classes = Enumerable.Range(0, Examples).Select(i => i % 3 == 0 ? -100 : i % 2).ToArray();
        var source = new TensorBatchSource<float, int>(x, [1], classes, []);
        using var device = Device.Create("cpu");
        using var model = Model(device);
        using var loss = new CrossEntropyLoss();
        using var optimizer = new Sgd(model.Parameters, 0.01f);

        var (progress, result) = Run(new Trainer(model, loss, optimizer, Options), source);

        var perExample = classes.Select(c => c == loss.IgnoreIndex ? 0 : 1).ToArray();
        AssertCountsTargets(progress, result, perExample);
        Assert.That(result.Epochs[^1].Validation!.Count, Is.EqualTo(perExample.Sum()));
    }

    [TestCase(Reduction.Mean)]
    [TestCase(Reduction.Sum)]
    public void AnMseRunsValidationLossIsTheMeanSquaredErrorOverEveryValidationValue(Reduction reduction)
    {
        // 13 validation examples of 2 values (13 = 8 + 5: batches of unequal size), other points than the training set's.
        const int held = 13;
        var x = Inputs();
        var validationX = Enumerable.Range(0, held).Select(i => -0.9f + (0.15f * i)).ToArray();
        float[] Targets(float[] inputs) => [.. inputs.SelectMany(v => new[] { MathF.Sin(2f * v), v * v })];
        var train = new TensorBatchSource<float, float>(x, [1], Targets(x), [2]);
        var validation = new TensorBatchSource<float, float>(validationX, [1], Targets(validationX), [2]);
        using var device = Device.Create("cpu");
        using var model = Model(device);
        using var loss = new MseLoss(reduction);
        using var optimizer = new Sgd(model.Parameters, 0.01f);

        var result = new Trainer(model, loss, optimizer, Options).Train(train, validation);

        // By hand, in float64: the mean over every validation value of the final model, whether the loss averages or sums a batch.
        using var inputs = device.FromArray(validationX, held, 1);
        var predicted = model.Forward(inputs).ToArray();
        var expected = Targets(validationX);
        double mse = predicted.Zip(expected, (p, t) => Math.Pow((double)p - t, 2)).Sum() / expected.Length;
        var last = result.Epochs[^1].Validation!;
        Assert.That(last.Loss, Is.EqualTo(mse).Within(1e-5).Percent);
        Assert.That(last.Count, Is.EqualTo(2 * held));
    }

    [TestCase(Reduction.Mean)]
    [TestCase(Reduction.Sum)]
    public void AnMseRunsTrainingLossIsPerTargetAsItsValidationLossIs(Reduction reduction)
    {
        var x = Inputs();
        var source = new TensorBatchSource<float, float>(x, [1], [.. x.SelectMany(v => new[] { v, 1f - v })], [2]);
        using var loss = new MseLoss(reduction);
        AssertTrainingLossIsPerTarget(source, (model, optimizer) => new Trainer(model, loss, optimizer, Options with { BatchSize = 10 }));
    }

    [TestCase("L1", Reduction.Mean)]
    [TestCase("L1", Reduction.Sum)]
    [TestCase("SmoothL1", Reduction.Sum)]
    [TestCase("Huber", Reduction.Sum)]
    [TestCase("BceWithLogits", Reduction.Mean)]
    [TestCase("BceWithLogits", Reduction.Sum)]
    public void AValueLossRunsValidationLossIsItsMeanOverEveryValidationValue(string lossName, Reduction reduction)
    {
        var kind = Enum.Parse<ElementwiseLossKind>(lossName);
        // As the MSE run's, for the other losses over values, with targets in [0, 1] (BCE's probabilities).
        const int held = 13;
        const float parameter = 0.5f;
        var x = Inputs();
        var validationX = Enumerable.Range(0, held).Select(i => -0.9f + (0.15f * i)).ToArray();
        float[] Targets(float[] inputs) => [.. inputs.SelectMany(v => new[] { (MathF.Sin(2f * v) + 1f) / 2f, v * v })];
        var train = new TensorBatchSource<float, float>(x, [1], Targets(x), [2]);
        var validation = new TensorBatchSource<float, float>(validationX, [1], Targets(validationX), [2]);
        using var device = Device.Create("cpu");
        using var model = Model(device);
        using ILoss<Tensor> loss = kind switch
        {
            ElementwiseLossKind.L1 => new L1Loss(reduction),
            ElementwiseLossKind.SmoothL1 => new SmoothL1Loss(reduction, beta: parameter),
            ElementwiseLossKind.Huber => new HuberLoss(reduction, delta: parameter),
            _ => new BceWithLogitsLoss(reduction),
        };
        using var optimizer = new Sgd(model.Parameters, 0.01f);

        var result = new Trainer(model, loss, optimizer, Options).Train(train, validation);

        using var inputs = device.FromArray(validationX, held, 1);
        var predicted = model.Forward(inputs).ToArray();
        var expected = Targets(validationX);
        double mean = predicted.Zip(expected, (p, t) => ReferenceElementwiseLoss.Term(kind, parameter, p, t, 1, out _)).Sum() / expected.Length;
        var last = result.Epochs[^1].Validation!;
        Assert.That(last.Loss, Is.EqualTo(mean).Within(1e-5).Percent);
        Assert.That(last.Count, Is.EqualTo(2 * held));
    }

    [TestCase(Reduction.Mean)]
    [TestCase(Reduction.Sum)]
    public void ACrossEntropyRunsTrainingLossIsPerTargetAsItsValidationLossIs(Reduction reduction)
    {
        var source = new TensorBatchSource<float, int>(Inputs(), [1], [.. Enumerable.Range(0, Examples).Select(i => i % 2)], []);
        using var loss = new CrossEntropyLoss(reduction);
        AssertTrainingLossIsPerTarget(source, (model, optimizer) => new Trainer(model, loss, optimizer, Options with { BatchSize = 10 }));
    }

    [TestCase(Reduction.Mean)]
    [TestCase(Reduction.Sum)]
    public void ALogSoftmaxModelWithNllLossTrainsAndReportsAsTheSameLinearWithCrossEntropyDoes(Reduction reduction)
    {
        // Cross-entropy is NLL of the log-softmax: from the same seed (LogSoftmax has no parameters), every batch's
        // loss, the counts of targets (every third class id ignored), the validation and the weights agree.
        var classes = Enumerable.Range(0, Examples).Select(i => i % 3 == 0 ? -100 : i % 2).ToArray();
        var source = new TensorBatchSource<float, int>(Inputs(), [1], classes, []);
        using var device = Device.Create("cpu");
        using var linear = Model(device);
        using var logSoftmax = new Sequential(new Linear(1, 2), new LogSoftmax());
        logSoftmax.Build(device, seed: 1);
        using var crossEntropy = new CrossEntropyLoss(reduction);
        using var nll = new NllLoss(reduction);
        using var linearAdam = new Adam(linear.Parameters, 0.05f);
        using var logSoftmaxAdam = new Adam(logSoftmax.Parameters, 0.05f);

        var (expectedProgress, expected) = Run(new Trainer(linear, crossEntropy, linearAdam, Options), source);
        var (progress, result) = Run(new Trainer(logSoftmax, nll, logSoftmaxAdam, Options), source);

        AssertCountsTargets(progress, result, [.. classes.Select(c => c == nll.IgnoreIndex ? 0 : 1)]);
        Assert.That(progress.Select(p => p.Loss), Is.EqualTo(expectedProgress.Select(p => p.Loss)).Within(1e-4).Percent, "every batch's loss");
        for (int e = 0; e < result.Epochs.Count; e++)
        {
            Assert.That(result.Epochs[e].TrainLoss, Is.EqualTo(expected.Epochs[e].TrainLoss).Within(1e-4).Percent, $"epoch {e + 1} train loss");
            Assert.That(result.Epochs[e].Validation!.Loss, Is.EqualTo(expected.Epochs[e].Validation!.Loss).Within(1e-4).Percent, $"epoch {e + 1} validation loss");
            Assert.That(result.Epochs[e].Validation!.Count, Is.EqualTo(expected.Epochs[e].Validation!.Count), $"epoch {e + 1} validation targets");
        }

        Assert.That(logSoftmax.Parameters.Parameters[0].Value.ToArray(), Is.EqualTo(linear.Parameters.Parameters[0].Value.ToArray()).Within(1e-5), "the weights");
    }

    // A learning rate of 0 leaves the model as built, so training and validation on the same examples score alike
    // (batches of ten: every batch counts the same number of targets).
    private static void AssertTrainingLossIsPerTarget<TTarget>(TensorBatchSource<float, TTarget> source, Func<Module, IOptimizer, Trainer> trainer)
        where TTarget : unmanaged
    {
        using var device = Device.Create("cpu");
        using var model = Model(device);
        using var optimizer = new Sgd(model.Parameters, 0f);

        var (progress, result) = Run(trainer(model, optimizer), source);

        var last = result.Epochs[^1];
        Assert.That(last.TrainLoss, Is.EqualTo(last.Validation!.Loss).Within(1e-4).Percent);
        Assert.That(progress.Select(p => p.Loss), Is.All.EqualTo(last.Validation.Loss).Within(50).Percent, "each batch per target too");
    }

    // One input, two outputs: two values for MSE, two classes' logits for cross-entropy.
    private static Sequential Model(Device device)
    {
        var model = new Sequential(new Linear(1, 2));
        model.Build(device, seed: 1);
        return model;
    }

    private static float[] Inputs() => [.. Enumerable.Range(0, Examples).Select(i => -1f + (2f * i / (Examples - 1)))];

    private static (List<BatchProgress> Progress, TrainingResult Result) Run<TTarget>(Trainer trainer, TensorBatchSource<float, TTarget> source)
        where TTarget : unmanaged
    {
        var progress = new List<BatchProgress>();
        trainer.BatchCompleted += progress.Add;
        return (progress, trainer.Train(source, source));
    }

    // Each speed times its time is the targets of the batches so far in the epoch's order.
    private static void AssertCountsTargets(List<BatchProgress> progress, TrainingResult result, int[] targetsPerExample)
    {
        foreach (var p in progress)
        {
            var order = Trainer.EpochOrder(Examples, Seed, p.Epoch - 1);
            int expected = order.Take(Math.Min(p.Batch * Batch, Examples)).Sum(e => targetsPerExample[e]);
            Assert.That(p.TargetsPerSecond * p.Elapsed.TotalSeconds, Is.EqualTo(expected).Within(1e-9).Percent, $"epoch {p.Epoch}, batch {p.Batch}");
        }

        Assert.That(progress, Has.Count.EqualTo(2 * 4));
        foreach (var epoch in result.Epochs)
        {
            Assert.That(epoch.TargetsPerSecond * epoch.Duration.TotalSeconds, Is.EqualTo(targetsPerExample.Sum()).Within(1e-9).Percent, $"epoch {epoch.Epoch}");
        }
    }
}
