using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

public sealed class TrainerTests
{
    private static readonly Lazy<(CharVocabulary Characters, string[] Sequences)> RealSlice = new(() =>
    {
        var corpus = NewsgroupsCorpus.Load(TestData.CorpusArchive, NewsgroupsSubset.Train);
        var sequences = corpus.Sequences.Take(400).ToArray();
        return (corpus.BuildVocabulary(), sequences);
    });

    [Test]
    public void ATinyLstmLearnsRealTextAndIsDeterministicOnCpu()
    {
        var (characters, sequences) = RealSlice.Value;
        var first = TrainTiny(characters, sequences);
        var second = TrainTiny(characters, sequences);

        // Uniform guessing over 32 characters costs ln 32 ≈ 3.47 nats; a model that learned the letter
        // frequencies alone reaches about 2.9, so 2.6 is clearly learning.
        Assert.That(first.Reports[^1].TrainLoss, Is.LessThan(2.6), string.Join(", ", first.Reports.Select(r => r.TrainLoss.ToString("F3"))));
        Assert.That(first.Reports[^1].Validation!.Loss, Is.LessThan(2.6));
        Assert.That(second.Reports.Select(r => r.TrainLoss), Is.EqualTo(first.Reports.Select(r => r.TrainLoss)));
        Assert.That(second.Weights, Is.EqualTo(first.Weights));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ResumingFromAPositionGivesExactlyTheUninterruptedRun(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var source = SyntheticSequences(24, 9, seed: 1);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 5, Seed = 3 };

        using var straight = new LstmCharModel(device, 6, 8, 2, dropout: 0.5f, seed: 4);
        using var straightAdam = new Adam(straight.Parameters, 0.01f);
        new Trainer(straight, new CrossEntropyLoss(), straightAdam, options).Train(source, null);

        using var resumed = new LstmCharModel(device, 6, 8, 2, dropout: 0.5f, seed: 4);
        using var resumedAdam = new Adam(resumed.Parameters, 0.01f);
        var stop = new CancellationTokenSource();
        var trainer = new Trainer(resumed, new CrossEntropyLoss(), resumedAdam, options);
        trainer.BatchCompleted += p =>
        {
            if (p.Epoch == 2 && p.Batch == 2)
            {
                stop.Cancel();
            }
        };
        var partial = trainer.Train(source, null, cancellation: stop.Token);
        Assert.That(partial.Cancelled, Is.True);
        Assert.That(partial.Position, Is.EqualTo(new TrainingPosition(1, 2, 7)));

        // A fresh model and optimizer restored from the saved host state, as a checkpoint would.
        using var restored = new LstmCharModel(device, 6, 8, 2, dropout: 0.5f, seed: 99) { DropoutSeed = resumed.DropoutSeed };
        restored.Parameters.Values.CopyFrom(resumed.Parameters.Values.ToArray());
        using var restoredAdam = new Adam(restored.Parameters, 0.01f);
        restoredAdam.LoadState(resumedAdam.SaveState());
        new Trainer(restored, new CrossEntropyLoss(), restoredAdam, options).Train(source, null, partial.Position);

        Assert.That(restored.Parameters.Values.ToArray(), Is.EqualTo(straight.Parameters.Values.ToArray()).Within(1e-6f));
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void SteadyStateTrainingAllocatesNoDeviceBuffers(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var source = SyntheticSequences(20, 12, seed: 2);
        using var model = new LstmCharModel(device, 6, 8, 2, dropout: 0.5f, seed: 1);
        using var adam = new Adam(model.Parameters, 0.01f);
        var trainer = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { Epochs = 3, BatchSize = 5, Seed = 1 });
        long? afterWarmup = null;
        long last = 0;
        trainer.BatchCompleted += p =>
        {
            if (p.Epoch == 1 && p.Batch == 1)
            {
                afterWarmup = device.AllocationCount;
            }

            last = device.AllocationCount;
        };
        trainer.Train(source, null);
        Assert.That(afterWarmup, Is.Not.Null);
        Assert.That(last, Is.EqualTo(afterWarmup), "device buffers were allocated after the first batch");
    }

    [Test]
    public void ANonFiniteLossStopsTrainingBeforeTheOptimizerStep()
    {
        var device = TestDevices.Get("cpu");
        var source = SyntheticSequences(10, 6, seed: 3);
        using var model = new LstmCharModel(device, 6, 4, 1, dropout: 0f, seed: 1);
        var weights = model.Parameters["output.bias"].Value;
        weights.CopyFrom(Enumerable.Repeat(float.NaN, 6).ToArray());
        var before = model.Parameters.Values.ToArray();
        using var adam = new Adam(model.Parameters, 0.01f);
        var ex = Assert.Throws<NonFiniteLossException>(() => new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { BatchSize = 5 }).Train(source, null));
        Assert.That(ex!.Message, Does.Contain("NaN").And.Contain("epoch 1, batch 1"));
        Assert.That(adam.StepCount, Is.Zero);
        Assert.That(model.Parameters.Values.ToArray(), Is.EqualTo(before));
    }

    [Test]
    public void ABatchWhoseTargetsAreAllIgnoredTrainsNothingAndCountsInNoAverage()
    {
        // The mean over no targets is NaN, as in PyTorch, but no divergence: the Trainer skips the batch (no optimizer
        // or schedule step, no report), so the run ends where the same run stopped before that batch ends.
        var device = TestDevices.Get("cpu");
        var random = new Random(4);
        var inputs = Enumerable.Range(0, 8 * 3).Select(_ => random.NextSingle() - 0.5f).ToArray();
        var classes = new int[8];
        var order = Trainer.EpochOrder(8, 1, 0);
        for (int i = 0; i < 8; i++)
        {
            classes[order[i]] = i < 4 ? i % 4 : -100; // the epoch's second batch of 4 holds only ignored targets
        }

        var source = new TensorBatchSource<float, int>(inputs, [3], classes, []);
        var validation = new TensorBatchSource<float, int>([.. inputs, .. inputs[..12]], [3], [0, 1, 2, 3, -100, -100, -100, -100, 0, 1, 2, 3], []);
        var withoutIgnored = new TensorBatchSource<float, int>(inputs[..12], [3], [0, 1, 2, 3], []);
        var (trained, trainedProgress) = Run(source, validation, maxBatches: null);
        var (stopped, stoppedProgress) = Run(source, withoutIgnored, maxBatches: 1);

        Assert.That(trained.Weights, Is.EqualTo(stopped.Weights), "the weights are those of the run without that batch");
        Assert.That((trained.Steps, trained.Rate, trained.Result.Position), Is.EqualTo((1L, stopped.Rate, stopped.Result.Position)), "no optimizer or schedule step");
        Assert.That(trainedProgress, Is.EqualTo(stoppedProgress), "the skipped batch is not reported");
        var (epoch, other) = (trained.Result.Epochs[0], stopped.Result.Epochs[0]);
        Assert.That(epoch.TrainLoss, Is.EqualTo(other.TrainLoss).And.Not.NaN, "the training loss averages the batch that trained");
        Assert.That(epoch.Validation!.Loss, Is.EqualTo(other.Validation!.Loss).Within(1e-6).And.Not.NaN, "validation skips the ignored targets");

        (Outcome Outcome, (int Batch, double Loss, double Running)[] Progress) Run(TensorBatchSource<float, int> train, TensorBatchSource<float, int> check, int? maxBatches)
        {
            using var model = new Sequential(new Linear(3, 4), new LogSoftmax());
            model.Build(device, seed: 1);
            using var loss = new NllLoss();
            using var adam = new Adam(model.Parameters, 0.05f);
            var schedule = new StepLR(adam, 1, 0.5);
            var options = new TrainerOptions { Epochs = 1, BatchSize = 4, Seed = 1, MaxBatchesPerEpoch = maxBatches, ScheduleEveryBatch = true };
            var trainer = new Trainer(model, loss, adam, options, schedule);
            var progress = new List<(int, double, double)>();
            trainer.BatchCompleted += p => progress.Add((p.Batch, p.Loss, p.RunningLoss));
            var result = trainer.Train(train, check);
            return (new Outcome(result, model.Parameters.Values.ToArray(), adam.StepCount, adam.LearningRate), [.. progress]);
        }
    }

    private sealed record Outcome(TrainingResult Result, float[] Weights, long Steps, float Rate);

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ANonFiniteLossLeavesTheRunningStatisticsAsTheyWereAndTheModelSaves(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 1));
        model.Build(device, seed: 1);
        var batchNorm = (BatchNorm1d)model[1];
        var inputs = Enumerable.Range(0, 8 * 3).Select(i => (float)(i % 5)).ToArray();
        using var mse = new MseLoss();
        using var adam = new Adam(model.Parameters, 0.01f);
        var trainer = new Trainer(model, mse, adam, new TrainerOptions { Epochs = 1, BatchSize = 4 });
        trainer.Train(new TensorBatchSource<float, float>(inputs, [3], new float[8], [1]), null);
        var state = model.StateDict().Select(e => (e.Key, e.Value.Data)).ToArray();

        inputs[4] = float.NaN;
        Assert.Throws<NonFiniteLossException>(() => trainer.Train(new TensorBatchSource<float, float>(inputs, [3], new float[8], [1]), null));

        Assert.That(batchNorm.NumBatchesTracked, Is.EqualTo(2), "the count");
        Assert.That(model.StateDict().Select(e => (e.Key, e.Value.Data)).ToArray(), Is.EqualTo(state), "weights, running statistics and count");
        string path = Path.Combine(Path.GetTempPath(), $"tensorlet-nonfinite-{Guid.NewGuid():N}.safetensors");
        try
        {
            ModuleCheckpoint.Save(model, path);
            using var loaded = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 1));
            loaded.Build(device);
            ModuleCheckpoint.Load(loaded, path);
            Assert.That(((BatchNorm1d)loaded[1]).RunningMean!.Value.ToArray(), Is.EqualTo(batchNorm.RunningMean!.Value.ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ABatchWhoseTargetsAreAllIgnoredLeavesTheRunningStatisticsAsTheyWere()
    {
        // The skipped batch's Forward updated the batch norm's statistics, as PyTorch's does; training nothing on it
        // puts them back, as a non-finite loss does.
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 3));
        model.Build(device, seed: 1);
        var state = model.StateDict().Select(e => (e.Key, e.Value.Data)).ToArray();
        var inputs = Enumerable.Range(0, 4 * 3).Select(i => (float)(i % 5)).ToArray();
        using var loss = new CrossEntropyLoss();
        using var adam = new Adam(model.Parameters, 0.01f);
        var trainer = new Trainer(model, loss, adam, new TrainerOptions { Epochs = 1, BatchSize = 4 });

        trainer.Train(new TensorBatchSource<float, int>(inputs, [3], [-100, -100, -100, -100], []), null);

        Assert.That(((BatchNorm1d)model[1]).NumBatchesTracked, Is.Zero, "the count");
        Assert.That(model.StateDict().Select(e => (e.Key, e.Value.Data)).ToArray(), Is.EqualTo(state), "weights, running statistics and count");
    }

    [Test]
    public void DropLastSkipsALastBatchOfOneThatABatchNormCannotTrainOn()
    {
        var device = TestDevices.Get("cpu");
        var inputs = Enumerable.Range(0, 9 * 3).Select(i => (float)((i * 7) % 5)).ToArray();
        var source = new TensorBatchSource<float, float>(inputs, [3], new float[9], [1]);
        var validation = new TensorBatchSource<float, float>(inputs[..15], [3], new float[5], [1]);
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 1));
        model.Build(device, seed: 1);
        using var mse = new MseLoss();
        using var adam = new Adam(model.Parameters, 0.01f);

        var error = Assert.Throws<ArgumentException>(() => new Trainer(model, mse, adam, new TrainerOptions { BatchSize = 4 }).Train(source, null))!;
        Assert.That(error.Message, Does.Contain("BatchNorm1d(4)").And.Contain("[1, 4]").And.Contain("TrainerOptions.DropLast").And.Not.Contain('\n'));

        var trainer = new Trainer(model, mse, adam, new TrainerOptions { Epochs = 3, BatchSize = 4, DropLast = true });
        var batches = new List<(int Batch, int Of)>();
        trainer.BatchCompleted += p => batches.Add((p.Batch, p.BatchesInEpoch));
        var result = trainer.Train(source, validation); // validation's last batch of one runs in evaluation, where one value is fine
        Assert.That(batches, Is.EqualTo(new[] { (1, 2), (2, 2), (1, 2), (2, 2), (1, 2), (2, 2) }), "two whole batches per epoch");
        Assert.That(result.Epochs.Select(e => e.Validation!.Count), Is.All.EqualTo(5), "validation scores every example");
        Assert.That(((BatchNorm1d)model[1]).NumBatchesTracked, Is.EqualTo(8), "2 training steps before the refused batch, then 6");

        var tooFew = new TensorBatchSource<float, float>(inputs[..9], [3], new float[3], [1]);
        var none = Assert.Throws<ArgumentException>(() => trainer.Train(tooFew, null))!;
        Assert.That(none.Message, Does.Contain("DropLast").And.Contain("only 3 examples").And.Not.Contain('\n'));
    }

    private static IEnumerable<TestCaseData> UnusableOptions()
    {
        yield return new TestCaseData(new TrainerOptions { BatchSize = 0 }, "BatchSize").SetArgDisplayNames("BatchSize 0");
        yield return new TestCaseData(new TrainerOptions { BatchSize = -5 }, "BatchSize").SetArgDisplayNames("BatchSize -5");
        yield return new TestCaseData(new TrainerOptions { Epochs = -1 }, "Epochs").SetArgDisplayNames("Epochs -1");
        yield return new TestCaseData(new TrainerOptions { MaxBatchesPerEpoch = 0 }, "MaxBatchesPerEpoch").SetArgDisplayNames("MaxBatchesPerEpoch 0");
        yield return new TestCaseData(new TrainerOptions { MaxValidationExamples = -1 }, "MaxValidationExamples").SetArgDisplayNames("MaxValidationExamples -1");
        yield return new TestCaseData(new TrainerOptions { GradientClipNorm = -1 }, "GradientClipNorm").SetArgDisplayNames("GradientClipNorm -1");
        yield return new TestCaseData(new TrainerOptions { GradientClipNorm = double.NaN }, "GradientClipNorm").SetArgDisplayNames("GradientClipNorm NaN");
    }

    [TestCaseSource(nameof(UnusableOptions))]
    public void OptionsNoRunCanUseAreRefusedWhenTheTrainerIsCreated(TrainerOptions options, string property)
    {
        // A zero batch size divided by zero when the epoch was laid out; a bad clipping norm failed after the first
        // batch's forward and backward passes.
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, 6, 4, 1, dropout: 0f, seed: 1);
        using var adam = new Adam(model.Parameters, 0.01f);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Trainer(model, new CrossEntropyLoss(), adam, options));
        Assert.That(ex!.ParamName, Is.EqualTo(property));
        Assert.That(ex.Message, Does.StartWith($"TrainerOptions.{property} must be"));
    }

    [Test]
    public void AStartPositionNotAtTheOptimizersStepOrBelowZeroIsRefused()
    {
        // Before, a fresh optimizer (step 0) resumed at step 7 trained with the dropout masks of steps 8, 9, ... and
        // Adam's bias correction of steps 1, 2, ...: neither run, silently.
        var device = TestDevices.Get("cpu");
        var source = SyntheticSequences(24, 9, seed: 1);
        using var model = new LstmCharModel(device, 6, 8, 1, dropout: 0f, seed: 4);
        using var adam = new Adam(model.Parameters, 0.01f);
        var trainer = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { Epochs = 2, BatchSize = 5 });
        var before = model.Parameters.Values.ToArray();
        var ex = Assert.Throws<ArgumentException>(() => trainer.Train(source, null, new TrainingPosition(1, 2, 7)));
        Assert.That(ex!.Message, Does.StartWith("The start position is at step 7 but the Adam has taken 0: load the optimizer state saved with the position"));
        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Train(source, null, new TrainingPosition(-1, 0, 0)));
        Assert.That(negative!.Message, Does.StartWith("A training position counts from 0; got epoch -1, batch 0, step 0."));

        // 24 examples in batches of 5 are 5 batches: batch 5 is past the epoch's end (it trained nothing, and a schedule
        // still stepped).
        var past = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Train(source, null, new TrainingPosition(0, 5, 0)));
        Assert.That(past!.Message, Does.StartWith("The start position is at batch 5 of an epoch of 5 batches (counting from 0)"));
        Assert.That(model.Parameters.Values.ToArray(), Is.EqualTo(before), "nothing trained");
        Assert.That(trainer.Train(source, null, new TrainingPosition(1, 0, 0)).Position.Epoch, Is.EqualTo(2), "a position at the optimizer's step runs");
    }

    [Test]
    public void AnEmptyValidationSourceIsRefusedBeforeTraining()
    {
        // Taken for no validation, an empty set would leave a run meant to be validated without a validation loss, and a
        // plateau schedule stepping on the training loss, without a word.
        var device = TestDevices.Get("cpu");
        var source = SyntheticSequences(24, 9, seed: 1);
        using var model = new LstmCharModel(device, 6, 8, 1, dropout: 0f, seed: 4);
        using var adam = new Adam(model.Parameters, 0.01f);
        var trainer = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { Epochs = 1, BatchSize = 6 });
        var before = model.Parameters.Values.ToArray();

        var ex = Assert.Throws<ArgumentException>(() => trainer.Train(source, new SequenceBatchSource([], 9)));

        Assert.That(ex!.ParamName, Is.EqualTo("validation"));
        Assert.That(ex.Message, Does.StartWith("The validation source (SequenceBatchSource) has no examples; pass null for no validation.").And.Not.Contain('\n'));
        Assert.That((adam.StepCount, model.Parameters.Values.ToArray()), Is.EqualTo((0, before)), "nothing trained");
        Assert.That(trainer.Train(source, null).Epochs.Single().Validation, Is.Null, "null is no validation");
        var unvalidated = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { Epochs = 1, BatchSize = 6, MaxValidationExamples = 0 });
        Assert.That(unvalidated.Train(source, new SequenceBatchSource([], 9)).Epochs.Single().Validation, Is.Null, "MaxValidationExamples 0 asks for no validation, so an empty source is no matter");
    }

    [Test]
    public void NoValidationExamplesIsNoValidationAndTheScheduleGetsTheTrainingLoss()
    {
        // Before, 0 examples scored gave a NaN validation loss, which ReduceLROnPlateau took for no improvement.
        var device = TestDevices.Get("cpu");
        var source = SyntheticSequences(24, 9, seed: 1);
        using var model = new LstmCharModel(device, 6, 8, 1, dropout: 0f, seed: 4);
        using var adam = new Adam(model.Parameters, 0.01f);
        var plateau = new ReduceLROnPlateau(adam, patience: 0);
        var trainer = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { Epochs = 3, BatchSize = 6, MaxValidationExamples = 0 }, plateau);

        var result = trainer.Train(source, source);

        Assert.That(result.Epochs.Select(e => e.Validation), Is.All.Null);
        Assert.That(result.Epochs.Select(e => e.TrainLoss), Is.Ordered.Descending, "the training loss falls");
        Assert.That(adam.LearningRate, Is.EqualTo(0.01f), "so the plateau schedule never decays");
    }

    [Test]
    public void AnOptimizerOrScheduleMadeForAnotherModelIsRefused()
    {
        // Before, the Trainer stepped the other model's parameters and this one's stayed as they were, silently.
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, 6, 4, 1, dropout: 0f, seed: 1);
        using var other = new LstmCharModel(device, 6, 4, 1, dropout: 0f, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        using var otherAdam = new Adam(other.Parameters, 0.01f);
        var ex = Assert.Throws<ArgumentException>(() => _ = new Trainer(model, new CrossEntropyLoss(), otherAdam, new TrainerOptions()));
        Assert.That((ex!.ParamName, ex.Message), Is.EqualTo(("optimizer", "The Adam updates another model's parameters; make it from this model's Parameters. (Parameter 'optimizer')")));
        ex = Assert.Throws<ArgumentException>(() => _ = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions(), new StepLR(otherAdam, 1, 0.5)));
        Assert.That((ex!.ParamName, ex.Message), Is.EqualTo(("schedule", "The StepLR sets another optimizer's learning rate; make it from the optimizer given to the Trainer. (Parameter 'schedule')")));
        Assert.DoesNotThrow(() => _ = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions(), new StepLR(adam, 1, 0.5)));
    }

    [Test]
    public void GradientClippingBoundsTheGlobalNorm()
    {
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, 6, 4, 1, dropout: 0f, seed: 1);
        model.Parameters.Gradients.CopyFrom(Enumerable.Repeat(1f, (int)model.Parameters.Length).ToArray());
        double norm = GradientClipping.ClipGradientNorm(model.Parameters, 1.0);
        Assert.That(norm, Is.EqualTo(Math.Sqrt(model.Parameters.Length)).Within(1e-6 * norm));
        Assert.That(Math.Sqrt(Ops.SumOfSquares(model.Parameters.Gradients)), Is.EqualTo(1.0).Within(1e-5));
    }

    [Test]
    public void GradientClippingLeavesAGradientBelowTheLimitUntouched()
    {
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, 6, 4, 1, dropout: 0f, seed: 1);
        var gradients = Enumerable.Range(0, (int)model.Parameters.Length).Select(i => (float)Math.Sin(i) * 0.01f).ToArray();
        model.Parameters.Gradients.CopyFrom(gradients);
        double norm = GradientClipping.ClipGradientNorm(model.Parameters, 1e3);
        Assert.That(norm, Is.EqualTo(Math.Sqrt(gradients.Sum(g => (double)g * g))).Within(1e-6 * norm));
        Assert.That(model.Parameters.Gradients.ToArray(), Is.EqualTo(gradients), "a norm below the limit is not scaled, up or down");
    }

    [Test]
    public void TheTrainerClipsTheGradientWhenAskedTo()
    {
        // Adam's first step moves each weight by lr·g/(|g| + ε): about lr for any gradient well above ε = 1e-8. A
        // gradient clipped to a global norm of 1e-10 has every |g| ≤ 1e-10, so no weight moves more than lr·1e-10/ε = lr/100.
        const float lr = 0.01f;
        var source = SyntheticSequences(count: 10, length: 8, seed: 2);
        double MaxMove(double? clip)
        {
            var device = TestDevices.Get("cpu");
            using var model = new LstmCharModel(device, 6, 4, 1, dropout: 0f, seed: 1);
            using var adam = new Adam(model.Parameters, lr);
            var before = model.Parameters.Values.ToArray();
            new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { Epochs = 1, BatchSize = 5, MaxBatchesPerEpoch = 1, GradientClipNorm = clip }).Train(source, null);
            return model.Parameters.Values.ToArray().Zip(before, (a, b) => Math.Abs(a - b)).Max();
        }

        Assert.That(MaxMove(null), Is.GreaterThan(0.5 * lr), "unclipped");
        Assert.That(MaxMove(1e-10), Is.LessThanOrEqualTo(0.0101 * lr), "clipped to 1e-10");
    }

    private static SequenceBatchSource SyntheticSequences(int count, int length, int seed)
    {
        var random = new Random(seed);
        var ids = new int[count * length];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = random.Next(6);
        }

        return new SequenceBatchSource(ids, length);
    }

    private static (IReadOnlyList<EpochReport> Reports, float[] Weights) TrainTiny(CharVocabulary characters, string[] sequences)
    {
        var device = TestDevices.Get("cpu");
        var split = ValidationSplit.Create(sequences, 0.1, seed: 5);
        var data = CharSequenceDataset.Create(sequences, characters);
        int length = data.SequenceLength;
        int[] Pick(int[] which) => [.. which.SelectMany(i => data.Sequence(i).ToArray())];
        var train = new SequenceBatchSource(Pick(split.Train), length);
        var validation = new SequenceBatchSource(Pick(split.Validation), length);
        using var model = new LstmCharModel(device, characters.Count, 48, 1, dropout: 0f, seed: 7);
        using var adam = new Adam(model.Parameters, 1e-2f);
        var result = new Trainer(model, new CrossEntropyLoss(), adam, new TrainerOptions { Epochs = 4, BatchSize = 20, Seed = 1 }).Train(train, validation);
        return (result.Epochs, model.Parameters.Values.ToArray());
    }
}
