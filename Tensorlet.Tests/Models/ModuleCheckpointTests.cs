using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>A module's checkpoint with its optimizer's state: exact resumption, and refusals that change nothing.</summary>
public sealed class ModuleCheckpointTests
{
    private string folder = null!;

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("tensorlet-module-checkpoint-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static IEnumerable<TestCaseData> Optimizers()
    {
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(p, 0.01f))).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new AdamW(p, 0.01f, weightDecay: 0.1f))).SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(p, 0.05f, beta2: 0.5f, amsgrad: true))).SetArgDisplayNames("Adam, amsgrad");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new AdamW(Groups(p), 0.05f, beta2: 0.5f, weightDecay: 0.1f, amsgrad: true))).SetArgDisplayNames("AdamW, parameter groups, amsgrad");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Sgd(p, 0.05f, momentum: 0.9f, nesterov: true))).SetArgDisplayNames("Sgd, Nesterov momentum");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Sgd(p, 0.05f))).SetArgDisplayNames("Sgd");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new AdamW(Groups(p), 0.01f, weightDecay: 0.1f))).SetArgDisplayNames("AdamW, parameter groups");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Sgd(Groups(p), 0.05f, momentum: 0.9f))).SetArgDisplayNames("Sgd, parameter groups");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(p, 0.01f))).SetArgDisplayNames("RMSprop");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(p, 0.01f, weightDecay: 0.01f, momentum: 0.9f, centered: true))).SetArgDisplayNames("RMSprop, momentum, centered");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(Groups(p), 0.01f, momentum: 0.5f, centered: true))).SetArgDisplayNames("RMSprop, parameter groups");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(FlagGroups(p, amsgrad: true), 0.05f, beta2: 0.5f, weightDecay: 0.01f))).SetArgDisplayNames("Adam, amsgrad in one group");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(FlagGroups(p, amsgrad: false), 0.01f, weightDecay: 0.01f, momentum: 0.5f))).SetArgDisplayNames("RMSprop, centered in one group");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(FrozenOutGroups(p), 0.01f))).SetArgDisplayNames("Adam, a frozen weight in no group");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(FrozenOutGroups(p, amsgrad: true), 0.01f))).SetArgDisplayNames("Adam, a frozen weight in no group, amsgrad in one");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(FrozenOutGroups(p), 0.01f))).SetArgDisplayNames("RMSprop, a frozen weight in no group");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam([.. Groups(p), new ParameterGroup([]) { Amsgrad = true }], 0.01f))).SetArgDisplayNames("Adam, an empty amsgrad group");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop([.. Groups(p), new ParameterGroup([]) { Centered = true }], 0.01f))).SetArgDisplayNames("RMSprop, an empty centered group");
    }

    [TestCaseSource(nameof(Optimizers))]
    public void TrainingResumedFromAModuleCheckpointWithItsOptimizerIsExactlyTheUninterruptedRun(Func<ParameterCollection, IOptimizer> makeOptimizer)
    {
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "model.safetensors");
        using var model = Model(device, seed: 1);
        using var optimizer = makeOptimizer(model.Parameters);
        Steps(model, optimizer, 0, 3);
        ModuleCheckpoint.Save(model, path, optimizer);
        Steps(model, optimizer, 3, 4);

        using var resumed = Model(device, seed: 2);
        using var resumedOptimizer = makeOptimizer(resumed.Parameters);
        ModuleCheckpoint.Load(resumed, path, resumedOptimizer);
        Assert.That(resumedOptimizer.StepCount, Is.EqualTo(3));
        Steps(resumed, resumedOptimizer, 3, 4);
        Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()), "bit for bit, as if never interrupted");

        // Without the optimizer's state (a fresh optimizer at step 0), the same steps give other weights, except for
        // plain SGD, whose only state is the step count.
        using var restarted = Model(device, seed: 2);
        using var fresh = makeOptimizer(restarted.Parameters);
        ModuleCheckpoint.Load(restarted, path);
        Steps(restarted, fresh, 3, 4);
        bool stateless = optimizer is Sgd { HasMomentumBuffer: false };
        Assert.That(restarted.Parameters.Values.ToArray(), stateless ? Is.EqualTo(model.Parameters.Values.ToArray()) : Is.Not.EqualTo(model.Parameters.Values.ToArray()));
    }

    private static IEnumerable<TestCaseData> Schedules()
    {
        // (the schedule, whether it steps after every step rather than every "epoch" of two steps)
        yield return new TestCaseData((Func<IOptimizer, LearningRateSchedule>)(o => new StepLR(o, stepSize: 2, gamma: 0.5)), false).SetArgDisplayNames("StepLR");
        yield return new TestCaseData((Func<IOptimizer, LearningRateSchedule>)(o => new ReduceLROnPlateau(o, factor: 0.5, patience: 0, cooldown: 1)), false).SetArgDisplayNames("ReduceLROnPlateau");
        yield return new TestCaseData((Func<IOptimizer, LearningRateSchedule>)(o => new WarmupCosineLR(o, warmupSteps: 3, totalSteps: 12)), true).SetArgDisplayNames("WarmupCosineLR");
        yield return new TestCaseData((Func<IOptimizer, LearningRateSchedule>)(o => new CosineAnnealingLR(o, tMax: 2, etaMin: 0.001)), false).SetArgDisplayNames("CosineAnnealingLR");
        yield return new TestCaseData((Func<IOptimizer, LearningRateSchedule>)(o => new MultiStepLR(o, [3, 1, 3], gamma: 0.5)), false).SetArgDisplayNames("MultiStepLR");
        yield return new TestCaseData((Func<IOptimizer, LearningRateSchedule>)(o => new LinearLR(o, startFactor: 0.25, totalIters: 4)), true).SetArgDisplayNames("LinearLR");
    }

    [TestCaseSource(nameof(Schedules))]
    public void TrainingResumedWithItsScheduleIsExactlyTheUninterruptedRun(Func<IOptimizer, LearningRateSchedule> makeSchedule, bool everyStep)
    {
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "model.safetensors");
        using var model = Model(device, seed: 1);
        using var adam = new Adam(model.Parameters, 0.02f);
        var schedule = makeSchedule(adam);
        StepsWithSchedule(model, adam, schedule, everyStep, 0, 5);
        ModuleCheckpoint.Save(model, path, adam, schedule);
        float savedRate = adam.LearningRate;
        StepsWithSchedule(model, adam, schedule, everyStep, 5, 11);

        // Made with another learning rate: the schedule's state sets the saved rate and its base.
        using var resumed = Model(device, seed: 2);
        using var resumedAdam = new Adam(resumed.Parameters, 0.5f);
        var resumedSchedule = makeSchedule(resumedAdam);
        ModuleCheckpoint.Load(resumed, path, resumedAdam, resumedSchedule);
        Assert.That((resumedAdam.LearningRate, resumedSchedule.BaseLearningRate), Is.EqualTo((savedRate, (double)0.02f)));
        StepsWithSchedule(resumed, resumedAdam, resumedSchedule, everyStep, 5, 11);
        Assert.That(resumedSchedule.StateDict(), Is.EqualTo(schedule.StateDict()));
        Assert.That(resumedAdam.LearningRate, Is.EqualTo(adam.LearningRate));
        Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()), "bit for bit");
    }

    [Test]
    public void AScheduleStateThatDoesNotFitIsRefusedAndNothingChanges()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device, seed: 1);
        using var adam = new Adam(model.Parameters, 0.02f);
        var plateau = new ReduceLROnPlateau(adam, patience: 0);
        plateau.Step(1.0);
        plateau.Step(2.0);
        var state = plateau.StateDict();
        Assert.That(state.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[] { "base_lr", "best", "cooldown_counter", "last_epoch", "last_lr", "num_bad_epochs" }));
        Assert.That((state["last_epoch"], state["best"], state["num_bad_epochs"], state["cooldown_counter"]), Is.EqualTo((2.0, 1.0, 0.0, 0.0)));
        Assert.That(state["last_lr"], Is.EqualTo(0.002).Within(1e-9), "reduced by the default factor 0.1 after a bad epoch");

        using var other = new Adam(model.Parameters, 0.5f);
        var target = new ReduceLROnPlateau(other);
        target.Step(3.0);
        var before = target.StateDict();
        void Refused(Dictionary<string, double> bad, string message)
        {
            Assert.That(Assert.Catch<ArgumentException>(() => target.LoadStateDict(bad))!.Message, Does.StartWith(message));
            Assert.That(target.StateDict(), Is.EqualTo(before), message);
            Assert.That(other.LearningRate, Is.EqualTo(0.5f), message);
        }

        Refused(new(state) { ["num_bad_epochs"] = 1.5 }, "num_bad_epochs must be a whole number from 0 to 2147483647; got 1.5.");
        Refused(new(state) { ["last_epoch"] = -1 }, "last_epoch must be a whole number from 0 to 2147483647; got -1.");
        Refused(new(state) { ["last_lr"] = double.NaN }, "last_lr must be a finite number of at least 0; got NaN.");
        Refused(new(state) { ["base_lr"] = double.PositiveInfinity }, "base_lr must be a finite number of at least 0; got Infinity.");
        Refused(new(state) { ["best"] = double.NaN }, "best must be a number (infinity before the first metric); got NaN.");
        Refused(new(state) { ["extra"] = 1 }, "A ReduceLROnPlateau state has base_lr, best, cooldown_counter, last_epoch, last_lr, num_bad_epochs; unknown extra.");
        var missing = new Dictionary<string, double>(state);
        missing.Remove("best");
        Refused(missing, "A ReduceLROnPlateau state has base_lr, best, cooldown_counter, last_epoch, last_lr, num_bad_epochs; missing best.");

        target.LoadStateDict(state);
        Assert.That(target.StateDict(), Is.EqualTo(state));
        Assert.That(other.LearningRate, Is.EqualTo((float)state["last_lr"]), "the optimizer's learning rate follows");
    }

    [Test]
    public void AScheduleCheckpointOfAnotherKindOrWithoutOneIsRefusedAndNothingChanges()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device, seed: 1);
        using var adam = new Adam(model.Parameters, 0.02f);
        var step = new StepLR(adam, 1, 0.5);
        Steps(model, adam, 0, 2);
        step.Step();
        var withStep = Path.Combine(folder, "step.safetensors");
        var withoutSchedule = Path.Combine(folder, "none.safetensors");
        ModuleCheckpoint.Save(model, withStep, adam, step);
        ModuleCheckpoint.Save(model, withoutSchedule, adam);

        using var target = Model(device, seed: 3);
        using var targetAdam = new Adam(target.Parameters, 0.3f);
        var exponential = new ExponentialLR(targetAdam, 0.9);
        var weights = target.Parameters.Values.ToArray();
        void Refused(string path, LearningRateSchedule schedule, string message)
        {
            Assert.That(Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(target, path, targetAdam, schedule))!.Message, Does.Contain(message));
            Assert.That(target.Parameters.Values.ToArray(), Is.EqualTo(weights), message);
            Assert.That((targetAdam.StepCount, targetAdam.LearningRate, schedule.Epoch), Is.EqualTo((0, 0.3f, 0)), message);
        }

        Refused(withStep, exponential, "holds the state of a StepLR, not of the ExponentialLR given");
        Refused(withoutSchedule, new StepLR(targetAdam, 1, 0.5), "holds no learning-rate schedule state: it was saved without a schedule");

        // A schedule value no schedule can hold, written into the pair's optimizer file.
        var optimizerFile = EditedSafeTensors.OptimizerFileOf(withStep);
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.schedule.last_epoch"] = "1.5");
        Refused(withStep, new StepLR(targetAdam, 1, 0.5), "has a StepLR state the schedule cannot take: last_epoch must be a whole number from 0 to 2147483647; got 1.5.");
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.schedule.last_epoch"] = "two");
        Refused(withStep, new StepLR(targetAdam, 1, 0.5), "has a malformed schedule value: tensorlet.schedule.last_epoch is 'two'.");

        Assert.That(Assert.Throws<ArgumentException>(() => ModuleCheckpoint.Save(model, withStep, null, step))!.Message, Does.StartWith("A StepLR's state is kept with its optimizer's: give the optimizer too."));
        Assert.That(Assert.Throws<ArgumentException>(() => ModuleCheckpoint.Load(target, withStep, targetAdam, step))!.Message, Does.StartWith("The StepLR sets another optimizer's learning rate; give the optimizer it was made from."));
    }

    [Test]
    public void AStateThatDoesNotFitIsRefusedAndNeitherTheModuleNorTheOptimizerChanges()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device, seed: 1);
        using var adam = new Adam(model.Parameters, 0.01f);
        Steps(model, adam, 0, 2);
        var withAdam = Path.Combine(folder, "adam.safetensors");
        var withoutOptimizer = Path.Combine(folder, "plain.safetensors");
        var withMomentum = Path.Combine(folder, "momentum.safetensors");
        ModuleCheckpoint.Save(model, withAdam, adam);
        ModuleCheckpoint.Save(model, withoutOptimizer);
        using (var momentum = new Sgd(model.Parameters, 0.1f, momentum: 0.5f))
        {
            ModuleCheckpoint.Save(model, withMomentum, momentum);
        }

        using var target = Model(device, seed: 7);
        using var sgd = new Sgd(target.Parameters, 0.1f);
        using var targetAdam = new Adam(target.Parameters, 0.01f);
        Steps(target, targetAdam, 0, 1);
        var weights = target.Parameters.Values.ToArray();
        var state = targetAdam.SaveState();
        void Refused(string path, IOptimizer optimizer, string message)
        {
            var ex = Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(target, path, optimizer))!;
            Assert.That(ex.Message, Does.Contain(message));
            Assert.That(target.Parameters.Values.ToArray(), Is.EqualTo(weights), message + ": the module is unchanged");
            Assert.That(targetAdam.SaveState().FirstMoment, Is.EqualTo(state.FirstMoment), message + ": Adam is unchanged");
            Assert.That((sgd.StepCount, targetAdam.StepCount), Is.EqualTo((0, 1)), message + ": the step counts are unchanged");
        }

        Refused(withAdam, sgd, "holds the state of Adam, not of the Sgd given");
        Refused(withoutOptimizer, targetAdam, "holds no optimizer state: it was saved without an optimizer");
        Refused(withMomentum, sgd, "holds SGD momentum buffers, but the Sgd given has no momentum");

        // Without buffers, into an Sgd whose one group with momentum sets its own: the message names that group's.
        var withoutMomentum = Path.Combine(folder, "plain-sgd.safetensors");
        using (var plain = new Sgd(model.Parameters, 0.1f))
        {
            ModuleCheckpoint.Save(model, withoutMomentum, plain);
        }

        var (targetWeights, targetBiases) = Tensorlet.Tests.Nn.ParameterGroupTests.WeightsAndBiases(target.Parameters);
        using var grouped = new Sgd([new ParameterGroup(targetWeights) { Momentum = 0f }, new ParameterGroup(targetBiases) { Momentum = 0.5f }], 0.1f, momentum: 0.9f);
        Refused(withoutMomentum, grouped, "holds no SGD momentum buffers, but the Sgd given has momentum 0.5 in group 1.");

        // The optimizer file damaged: its step count.
        var optimizerFile = EditedSafeTensors.OptimizerFileOf(withAdam);
        var bytes = File.ReadAllBytes(optimizerFile);
        File.WriteAllBytes(optimizerFile, bytes[..^4]);
        Refused(withAdam, targetAdam, "truncated");
    }

    [TestCase("I64")]
    [TestCase("I32")]
    [TestCase("I16")]
    [TestCase("I8")]
    [TestCase("U8")]
    [TestCase("BOOL")]
    public void AnIntegerOrBoolTensorIsRefusedAsAWeightAndNothingChanges(string dtype)
    {
        // A well-formed file whose weight is of an integer dtype: read as float32 it would load garbage that looks
        // like weights (integers near ±1e9 for I32 over float bytes, 0s and 1s for BOOL).
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "linear.safetensors");
        using var saved = new Linear(4, 3);
        saved.Build(device, seed: 1);
        ModuleCheckpoint.Save(saved, path);
        EditedSafeTensors.Retype(path, "weight", dtype);

        using var target = new Linear(4, 3);
        target.Build(device, seed: 2);
        var weights = target.Parameters.Values.ToArray();
        var e = Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(target, path))!;
        string kind = dtype == "BOOL" ? "a bool" : "an integer";
        Assert.That(e.Message, Is.EqualTo($"{path}: tensor 'weight' is {dtype}, {kind} dtype, which cannot hold the module's weights: only F32, F64, F16 and BF16 tensors are read as float32."));
        Assert.That(target.Parameters.Values.ToArray(), Is.EqualTo(weights), "the module is unchanged");
    }

    [TestCaseSource(nameof(Optimizers))]
    public void AnOptimizerStateOfAnIntegerDtypeIsRefusedAndNothingChanges(Func<ParameterCollection, IOptimizer> makeOptimizer)
    {
        var path = Path.Combine(folder, "model.safetensors");
        var saved = SaveTrained(path, makeOptimizer, steps: 2);
        if (saved.Stateless)
        {
            Assert.Pass("Plain SGD saves no state tensors.");
        }

        string name = SafeTensorsFile.Read(saved.OptimizerFile).Tensors.Keys.Order(StringComparer.Ordinal).Last();
        EditedSafeTensors.Retype(saved.OptimizerFile, name, "I32");

        Assert.That(LoadRefused(path, makeOptimizer, steps: 1), Is.EqualTo($"{saved.OptimizerFile}: tensor '{name}' is I32, an integer dtype, which cannot hold {saved.Optimizer}'s state: only F32, F64, F16 and BF16 tensors are read as float32."));
    }

    private static IEnumerable<TestCaseData> DamagedStates()
    {
        Func<ParameterCollection, IOptimizer> adam = p => new Adam(p, 0.01f);
        Func<ParameterCollection, IOptimizer> adamW = p => new AdamW(p, 0.01f, weightDecay: 0.1f);
        Func<ParameterCollection, IOptimizer> amsgrad = p => new Adam(p, 0.01f, amsgrad: true);
        Func<ParameterCollection, IOptimizer> sgd = p => new Sgd(p, 0.05f, momentum: 0.9f);
        Func<ParameterCollection, IOptimizer> rmsprop = p => new RMSprop(p, 0.01f, momentum: 0.9f, centered: true);
        yield return new TestCaseData(adam, "exp_avg_sq.", -1f).SetArgDisplayNames("Adam", "exp_avg_sq", "-1");
        yield return new TestCaseData(adam, "exp_avg_sq.", float.NaN).SetArgDisplayNames("Adam", "exp_avg_sq", "NaN");
        yield return new TestCaseData(adam, "exp_avg_sq.", float.NegativeInfinity).SetArgDisplayNames("Adam", "exp_avg_sq", "-Infinity");
        yield return new TestCaseData(adam, "exp_avg.", float.PositiveInfinity).SetArgDisplayNames("Adam", "exp_avg", "Infinity");
        yield return new TestCaseData(adamW, "exp_avg_sq.", -1f).SetArgDisplayNames("AdamW", "exp_avg_sq", "-1");
        yield return new TestCaseData(adamW, "exp_avg.", float.NaN).SetArgDisplayNames("AdamW", "exp_avg", "NaN");
        yield return new TestCaseData(amsgrad, "max_exp_avg_sq.", -1f).SetArgDisplayNames("Adam, amsgrad", "max_exp_avg_sq", "-1");
        yield return new TestCaseData(amsgrad, "max_exp_avg_sq.", float.NaN).SetArgDisplayNames("Adam, amsgrad", "max_exp_avg_sq", "NaN");
        yield return new TestCaseData(sgd, "momentum_buffer.", float.NegativeInfinity).SetArgDisplayNames("Sgd", "momentum_buffer", "-Infinity");
        yield return new TestCaseData(rmsprop, "square_avg.", -1f).SetArgDisplayNames("RMSprop", "square_avg", "-1");
        yield return new TestCaseData(rmsprop, "square_avg.", float.NaN).SetArgDisplayNames("RMSprop", "square_avg", "NaN");
        yield return new TestCaseData(rmsprop, "momentum_buffer.", float.PositiveInfinity).SetArgDisplayNames("RMSprop", "momentum_buffer", "Infinity");
        yield return new TestCaseData(rmsprop, "momentum_buffer.", float.NaN).SetArgDisplayNames("RMSprop", "momentum_buffer", "NaN");
        yield return new TestCaseData(rmsprop, "grad_avg.", float.PositiveInfinity).SetArgDisplayNames("RMSprop", "grad_avg", "Infinity");
    }

    [TestCaseSource(nameof(DamagedStates))]
    public void AnOptimizerStateNoTrainingGivesIsRefusedAndNothingChanges(Func<ParameterCollection, IOptimizer> makeOptimizer, string state, float value)
    {
        // Before, the state loaded, and the next step turned every weight it touched into NaN.
        var path = Path.Combine(folder, "model.safetensors");
        var optimizerFile = SaveTrained(path, makeOptimizer, steps: 2).OptimizerFile;
        string name = SafeTensorsFile.Read(optimizerFile).Tensors.Keys.Where(k => k.StartsWith(state, StringComparison.Ordinal)).Order(StringComparer.Ordinal).Last();
        EditedSafeTensors.SetElement(optimizerFile, name, 1, value);

        var message = LoadRefused(path, makeOptimizer, steps: 1, andThen: (target, targetOptimizer) =>
        {
            Steps(target, targetOptimizer, 1, 2);
            Assert.That(target.Parameters.Values.ToArray(), Is.All.Matches<float>(float.IsFinite), "and trains on");
        });
        Assert.That(message, Is.EqualTo(value < 0 && state is "exp_avg_sq." or "max_exp_avg_sq." or "square_avg."
            ? $"{optimizerFile}: tensor '{name}' holds a negative value ({value}) at element 1, but a second moment is a mean of squares; the file is damaged."
            : $"{optimizerFile}: tensor '{name}' holds a non-finite value ({value}) at element 1; the file is damaged."));
    }

    private static IEnumerable<TestCaseData> OverflowingOptimizers()
    {
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(p, 0.01f)), "exp_avg_sq").SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new AdamW(p, 0.01f)), "exp_avg_sq").SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(p, 0.01f)), "square_avg").SetArgDisplayNames("RMSprop");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(p, 0.01f, momentum: 0.9f, centered: true)), "square_avg").SetArgDisplayNames("RMSprop, momentum, centered");
    }

    [TestCaseSource(nameof(OverflowingOptimizers))]
    public void AMeanOfSquaresThatOverflowedSavesAndLoadsBackAndTheNextStepIsTheSame(Func<ParameterCollection, IOptimizer> makeOptimizer, string state)
    {
        // A gradient of about -4e20: (1 − β)·g² overflows float, so the mean of squares of that weight is +∞ and its
        // steps are 0 while the weight stays finite, as in torch, which saves and loads that +∞ too. Before, the save
        // wrote it and the load refused it as damage.
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "model.safetensors");
        using var model = new Sequential(new Linear(1, 1));
        model.Build(device, seed: 1);
        using var optimizer = makeOptimizer(model.Parameters);
        OverflowingSteps(model, optimizer, 3);
        ModuleCheckpoint.Save(model, path, optimizer);
        var saved = SafeTensorsFile.Read(EditedSafeTensors.OptimizerFileOf(path)).Tensors;
        Assert.That(saved[$"{state}.0.weight"].Data, Is.EqualTo(new[] { float.PositiveInfinity }), "the case this test is about");
        Assert.That(model.Parameters.Values.ToArray(), Is.All.Matches<float>(float.IsFinite));

        using var resumed = new Sequential(new Linear(1, 1));
        resumed.Build(device, seed: 2);
        using var resumedOptimizer = makeOptimizer(resumed.Parameters);
        ModuleCheckpoint.Load(resumed, path, resumedOptimizer);
        var again = Path.Combine(folder, "again.safetensors");
        ModuleCheckpoint.Save(resumed, again, resumedOptimizer);
        Assert.That(SafeTensorsFile.Read(EditedSafeTensors.OptimizerFileOf(again)).Tensors.ToDictionary(t => t.Key, t => t.Value.Data), Is.EqualTo(saved.ToDictionary(t => t.Key, t => t.Value.Data)), "the state, bit for bit");

        OverflowingSteps(model, optimizer, 1);
        OverflowingSteps(resumed, resumedOptimizer, 1);
        Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()), "the next step, bit for bit");
        Assert.That(resumed.Parameters.Values.ToArray(), Is.All.Matches<float>(float.IsFinite));
    }

    private static IEnumerable<TestCaseData> StatefulOptimizers()
    {
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Adam(p, 0.01f)), "exp_avg").SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new AdamW(p, 0.01f)), "exp_avg").SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Sgd(p, 0.05f, momentum: 0.9f)), "momentum_buffer").SetArgDisplayNames("Sgd, momentum");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new RMSprop(p, 0.01f, momentum: 0.9f, centered: true)), "square_avg").SetArgDisplayNames("RMSprop, momentum, centered");
    }

    [TestCaseSource(nameof(StatefulOptimizers))]
    public void AnOptimizerStateNoTrainingGivesIsRefusedAtSaveAndThePairOnDiskIsUnchanged(Func<ParameterCollection, IOptimizer> makeOptimizer, string state)
    {
        // A step from NaN gradients makes the state NaN; the weights are put back, so only the state is bad. Before, the
        // save wrote it, and the load refused the pair as damaged.
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "model.safetensors");
        using var model = Model(device, seed: 1);
        using var optimizer = makeOptimizer(model.Parameters);
        Steps(model, optimizer, 0, 1);
        ModuleCheckpoint.Save(model, path, optimizer);
        var files = Directory.GetFiles(folder).ToDictionary(f => f, File.ReadAllBytes);
        var weights = model.Parameters.Values.ToArray();
        model.Parameters.Gradients.CopyFrom(Enumerable.Repeat(float.NaN, weights.Length).ToArray());
        optimizer.Step();
        model.Parameters.Values.CopyFrom(weights);

        var e = Assert.Throws<ArgumentException>(() => ModuleCheckpoint.Save(model, path, optimizer))!;

        Assert.That(e.Message, Does.StartWith($"The {optimizer.GetType().Name}'s state cannot be saved: tensor '{state}.0.weight' holds a non-finite value (NaN) at element 0, which no training gives").And.Not.Contain('\n'));
        Assert.That(e.ParamName, Is.EqualTo("optimizer"));
        Assert.That(Directory.GetFiles(folder), Is.EquivalentTo(files.Keys), "no file added or removed");
        Assert.That(files.Keys.Select(File.ReadAllBytes), Is.EqualTo(files.Values), "both files as they were");
    }

    [Test]
    public void ACenteredRMSpropStateWhoseMeanGradientsSquareIsAboveItsMeanSquareLoadsAndTrainsOn()
    {
        // Rounding drifts s below a² by about 2⁻²⁴/(1 − α) of a² (4 % at α = 0.999999), and the kernel clamps s − a² at
        // 0, so such a state loads as it was saved and steps as from s = a². Before, the load refused a² above s by 1 %.
        Func<ParameterCollection, IOptimizer> rmsprop = p => new RMSprop(p, 0.01f, momentum: 0.9f, centered: true);
        var path = Path.Combine(folder, "model.safetensors");
        var optimizerFile = SaveTrained(path, rmsprop, steps: 2).OptimizerFile;
        string name = SafeTensorsFile.Read(optimizerFile).Tensors.Keys.Where(k => k.StartsWith("grad_avg.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Last();
        string parameter = name["grad_avg.".Length..];
        EditedSafeTensors.SetElement(optimizerFile, "square_avg." + parameter, 1, 0.30882356f);
        EditedSafeTensors.SetElement(optimizerFile, name, 1, 0.5588236f);

        using var target = Model(TestDevices.Get("cpu"), seed: 2);
        using var optimizer = (RMSprop)rmsprop(target.Parameters);
        ModuleCheckpoint.Load(target, path, optimizer);
        int at = (int)target.Parameters.Parameters.Single(p => p.Name == parameter).Offset + 1;
        Assert.That((optimizer.SaveState().SquareAverage[at], optimizer.SaveState().GradientAverage![at]), Is.EqualTo((0.30882356f, 0.5588236f)));
        Steps(target, optimizer, 2, 3);
        Assert.That(target.Parameters.Values.ToArray(), Is.All.Matches<float>(float.IsFinite), "and trains on");
    }

    [Test]
    public void AnotherSavesOptimizerFileOfTheSameStepIsRefusedAndNothingChanges()
    {
        var path = Path.Combine(folder, "model.safetensors");
        var other = Path.Combine(folder, "other", "model.safetensors");
        Func<ParameterCollection, IOptimizer> adam = p => new Adam(p, 0.01f);
        var optimizerFile = SaveTrained(path, adam, steps: 2).OptimizerFile;
        File.Copy(SaveTrained(other, adam, steps: 2, seed: 3).OptimizerFile, optimizerFile, overwrite: true);

        Assert.That(LoadRefused(path, adam, steps: 0), Does.StartWith($"{optimizerFile} was not saved with {path}: they record different pair ids"));
    }

    [TestCase("0.weight")]
    [TestCase("1.running_var")]
    public void ANonFiniteParameterOrBufferIsRefusedBeforeAnythingIsWritten(string name)
    {
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4));
        model.Build(TestDevices.Get("cpu"), seed: 2);
        string path = Path.Combine(folder, "model.safetensors");
        ModuleCheckpoint.Save(model, path);
        var saved = File.ReadAllBytes(path);
        var state = model.StateDict();
        state[name].Data[1] = float.PositiveInfinity;
        model.LoadStateDict(state);

        var error = Assert.Throws<ArgumentException>(() => ModuleCheckpoint.Save(model, path))!;

        Assert.That(error.Message, Does.Contain($"'{name}'").And.Contain("Infinity").And.Contain("element 1").And.Not.Contain('\n'));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(saved), "the checkpoint saved before is unchanged");
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1), "and nothing else was written");
    }

    [Test]
    public void AnOptimizerFileWithANegativeStepCountIsRefused()
    {
        var path = Path.Combine(folder, "model.safetensors");
        Func<ParameterCollection, IOptimizer> adam = p => new Adam(p, 0.01f);
        var optimizerFile = SaveTrained(path, adam, steps: 1).OptimizerFile;
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.step"] = "-1");

        Assert.That(LoadRefused(path, adam, steps: 0), Is.EqualTo($"{optimizerFile} has a negative step count ('tensorlet.step' is '-1'); the file is damaged."));
    }

    [Test]
    public void ASaveWithoutTheOptimizerRemovesTheStateAnEarlierSaveLeft()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device, seed: 1);
        using var adam = new Adam(model.Parameters, 0.01f);
        var path = Path.Combine(folder, "model.safetensors");
        ModuleCheckpoint.Save(model, path, adam);
        ModuleCheckpoint.Save(model, path, adam);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Has.Exactly(1).Matches<string>(f => f.StartsWith("model.optimizer.", StringComparison.Ordinal)), "the earlier pair's state is deleted");
        ModuleCheckpoint.Save(model, path, metadata: new Dictionary<string, string> { ["note"] = "weights only" });
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EqualTo(new[] { "model.safetensors" }));
        Assert.That(SafeTensorsFile.Read(path).Metadata, Is.EqualTo(new Dictionary<string, string> { ["note"] = "weights only" }));
    }

    [Test]
    public void AnOptimizerOfAnotherModelOrWithNoSavableStateIsRefusedBeforeAnythingIsWritten()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device, seed: 1);
        using var other = Model(device, seed: 2);
        using var otherAdam = new Adam(other.Parameters, 0.01f);
        var path = Path.Combine(folder, "model.safetensors");
        var ex = Assert.Throws<ArgumentException>(() => ModuleCheckpoint.Save(model, path, otherAdam))!;
        Assert.That(ex.Message, Does.StartWith("The Adam updates another model's parameters"));
        using var halving = new HalvingOptimizer(model.Parameters);
        ex = Assert.Throws<ArgumentException>(() => ModuleCheckpoint.Save(model, path, halving))!;
        Assert.That(ex.Message, Does.StartWith("Checkpoints hold the state of Adam, AdamW, Sgd and RMSprop, not of HalvingOptimizer."));
        Assert.That(Directory.GetFiles(folder), Is.Empty);
    }

    [Test]
    public void SgdStateRoundTripsAndRefusesAStateOfAnotherShape()
    {
        var device = TestDevices.Get("cpu");
        using var model = Model(device, seed: 1);
        using var sgd = new Sgd(model.Parameters, 0.1f, momentum: 0.9f);
        Steps(model, sgd, 0, 2);
        var state = sgd.SaveState();
        Assert.That((state.Step, state.MomentumBuffer!.Length), Is.EqualTo((2, (int)model.Parameters.Length)));
        Assert.That(state.MomentumBuffer, Has.Some.Not.EqualTo(0f));
        using var plain = new Sgd(model.Parameters, 0.1f);
        Assert.That(plain.SaveState().MomentumBuffer, Is.Null);
        Assert.That(Assert.Throws<ArgumentException>(() => plain.LoadState(state))!.Message, Does.StartWith("The saved SGD state has a momentum buffer, but this optimizer has no momentum."));
        Assert.That(Assert.Throws<ArgumentException>(() => sgd.LoadState(state with { MomentumBuffer = new float[3] }))!.Message, Does.StartWith($"The saved SGD state's momentum buffer holds 3 values but the model has {model.Parameters.Length} parameters."));
        Assert.That(Assert.Throws<ArgumentException>(() => sgd.LoadState(new SgdState(2, null)))!.Message, Does.StartWith("The saved SGD state has no momentum buffer, but this optimizer has momentum."));
        using var again = new Sgd(model.Parameters, 0.1f, momentum: 0.9f);
        again.LoadState(state);
        Assert.That(again.SaveState().MomentumBuffer, Is.EqualTo(state.MomentumBuffer));
        Assert.That(again.StepCount, Is.EqualTo(2));
    }

    [Test]
    public void AnRMSpropStateUnderTorchsNamesOfAnotherKindIsRefusedAndNothingChanges()
    {
        var path = Path.Combine(folder, "model.safetensors");
        var full = Path.Combine(folder, "full.safetensors");
        var plainFile = SaveTrained(path, p => new RMSprop(p, 0.01f), steps: 2).OptimizerFile;
        var fullFile = SaveTrained(full, p => new RMSprop(p, 0.01f, momentum: 0.9f, centered: true), steps: 2).OptimizerFile;
        Assert.That(SafeTensorsFile.Read(plainFile).Tensors.Keys.Order(StringComparer.Ordinal), Is.EqualTo(new[] { "square_avg.0.weight", "square_avg.1.bias_hh_l0", "square_avg.1.bias_ih_l0", "square_avg.1.weight_hh_l0", "square_avg.1.weight_ih_l0", "square_avg.2.bias", "square_avg.2.weight" }));
        Assert.That(SafeTensorsFile.Read(fullFile).Tensors.Keys.Select(k => k[..k.IndexOf('.', StringComparison.Ordinal)]).Distinct().Order(StringComparer.Ordinal), Is.EqualTo(new[] { "grad_avg", "momentum_buffer", "square_avg" }));

        Assert.That(LoadRefused(path, p => new RMSprop(p, 0.01f, momentum: 0.9f), steps: 1), Is.EqualTo($"{plainFile} holds no RMSprop momentum buffers, but the RMSprop given has momentum 0.9."));
        Assert.That(LoadRefused(path, p => new RMSprop(p, 0.01f, centered: true), steps: 1), Is.EqualTo($"{plainFile} holds no RMSprop mean gradients (grad_avg), but the RMSprop given is centered."));
        Assert.That(LoadRefused(full, p => new RMSprop(p, 0.01f, centered: true), steps: 1), Is.EqualTo($"{fullFile} holds RMSprop momentum buffers, but the RMSprop given has no momentum."));
        Assert.That(LoadRefused(full, p => new RMSprop(p, 0.01f, momentum: 0.9f), steps: 1), Is.EqualTo($"{fullFile} holds RMSprop mean gradients (grad_avg), but the RMSprop given is not centered."));
        Assert.That(LoadRefused(path, p => new Adam(p, 0.01f), steps: 1), Is.EqualTo($"{plainFile} holds the state of RMSprop, not of the Adam given."));
    }

    [Test]
    public void AnAmsgradStateIsSavedUnderTorchsNameAndAFileWithOrWithoutItIsRefusedByTheOtherKindAndNothingChanges()
    {
        var path = Path.Combine(folder, "model.safetensors");
        var amsgradPath = Path.Combine(folder, "amsgrad.safetensors");
        var plainFile = SaveTrained(path, p => new Adam(p, 0.01f), steps: 2).OptimizerFile;
        var amsgradFile = SaveTrained(amsgradPath, p => new AdamW(p, 0.01f, amsgrad: true), steps: 2).OptimizerFile;
        Assert.That(SafeTensorsFile.Read(amsgradFile).Tensors.Keys.Select(k => k[..k.IndexOf('.', StringComparison.Ordinal)]).Distinct().Order(StringComparer.Ordinal), Is.EqualTo(new[] { "exp_avg", "exp_avg_sq", "max_exp_avg_sq" }));
        Assert.That(SafeTensorsFile.Read(plainFile).Tensors.Keys, Has.None.StartsWith("max_exp_avg_sq."));

        Assert.That(LoadRefused(path, p => new Adam(p, 0.01f, amsgrad: true), steps: 1), Is.EqualTo($"{plainFile} holds no running maxima of the second moment (max_exp_avg_sq), but the Adam given is amsgrad."));
        Assert.That(LoadRefused(amsgradPath, p => new AdamW(p, 0.01f), steps: 1), Is.EqualTo($"{amsgradFile} holds running maxima of the second moment (max_exp_avg_sq), but the AdamW given is not amsgrad."));
    }

    [Test]
    public void AGroupsMaximumOrMeanGradientIsSavedForItsParametersOnlyAndAFileOfOtherGroupFlagsIsRefusedNamingTheGroup()
    {
        var adamPath = Path.Combine(folder, "adam.safetensors");
        var rmspropPath = Path.Combine(folder, "rmsprop.safetensors");
        var adamFile = SaveTrained(adamPath, p => new Adam(FlagGroups(p, amsgrad: true), 0.01f), steps: 2).OptimizerFile;
        var rmspropFile = SaveTrained(rmspropPath, p => new RMSprop(FlagGroups(p, amsgrad: false), 0.01f), steps: 2).OptimizerFile;
        using var model = Model(TestDevices.Get("cpu"), seed: 1);
        var (weights, biases) = Tensorlet.Tests.Nn.ParameterGroupTests.WeightsAndBiases(model.Parameters);
        Assert.That(SafeTensorsFile.Read(adamFile).Tensors.Keys.Where(k => k.StartsWith("max_exp_avg_sq.", StringComparison.Ordinal)), Is.EquivalentTo(biases.Select(p => "max_exp_avg_sq." + p.Name)), "as torch: the amsgrad group's parameters only");
        Assert.That(SafeTensorsFile.Read(rmspropFile).Tensors.Keys.Where(k => k.StartsWith("grad_avg.", StringComparison.Ordinal)), Is.EquivalentTo(weights.Select(p => "grad_avg." + p.Name)), "as torch: the centered group's parameters only");
        Assert.That(
            LoadRefused(adamPath, p => new Adam(FlagGroups(p, amsgrad: true), 0.01f, amsgrad: true), steps: 1),
            Is.EqualTo($"{adamFile} holds no running maxima of the second moment (max_exp_avg_sq) for parameter '{weights[0].Name}' of group 0, but group 0 of the Adam given is amsgrad; make the optimizer with the saved groups' amsgrad."));
        Assert.That(
            LoadRefused(adamPath, p => new Adam(FlagGroups(p, amsgrad: true, flag: false), 0.01f), steps: 1),
            Is.EqualTo($"{adamFile} holds running maxima of the second moment (max_exp_avg_sq), but no group of the Adam given is amsgrad."));
        Assert.That(
            LoadRefused(rmspropPath, p => new RMSprop(FlagGroups(p, amsgrad: false), 0.01f, centered: true), steps: 1),
            Is.EqualTo($"{rmspropFile} holds no RMSprop mean gradients (grad_avg) for parameter '{biases[0].Name}' of group 1, but group 1 of the RMSprop given is centered; make the optimizer with the saved groups' centered."));
    }

    [Test]
    public void EachGroupsSettingsAreRecordedAndAFileOfOtherSettingsIsRefusedAndNothingChanges()
    {
        var path = Path.Combine(folder, "model.safetensors");
        Func<ParameterCollection, IOptimizer> saved = p => new Adam(BetaGroups(p, 0.9f), 0.01f, epsilon: 1e-6f);
        var optimizerFile = SaveTrained(path, saved, steps: 2).OptimizerFile;
        var metadata = SafeTensorsFile.Read(optimizerFile).Metadata;
        Assert.That(
            new[] { "weight_decay", "beta1", "beta2", "eps" }.Select(s => metadata["tensorlet.group." + s]),
            Is.EqualTo(new[] { "0,0", "0.9,0.5", "0.999,0.9", "1E-06,1E-06" }));
        Assert.That(metadata.Keys, Has.None.EqualTo("tensorlet.group.momentum").And.None.EqualTo("tensorlet.group.alpha"));

        Assert.That(
            LoadRefused(path, p => new Adam(BetaGroups(p, 0.99f), 0.01f, epsilon: 1e-6f), steps: 1),
            Is.EqualTo($"{optimizerFile} was saved with group 1's beta2 0.9, and the Adam given has 0.99; make the optimizer with the saved settings."));
        Assert.That(
            LoadRefused(path, p => new Adam(BetaGroups(p, 0.9f), 0.01f), steps: 1),
            Is.EqualTo($"{optimizerFile} was saved with group 0's eps 1E-06, and the Adam given has 1E-08; make the optimizer with the saved settings."));
        Assert.That(
            LoadRefused(path, p => new Adam(BetaGroups(p, 0.9f), 0.01f, epsilon: 1e-6f, weightDecay: 0.1f), steps: 1),
            Is.EqualTo($"{optimizerFile} was saved with group 0's weight_decay 0, and the Adam given has 0.1; make the optimizer with the saved settings."));
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.group.beta1"] = "0.9");
        Assert.That(
            LoadRefused(path, saved, steps: 1),
            Is.EqualTo($"{optimizerFile} holds 1 values of 'tensorlet.group.beta1' for the Adam's 2 parameter groups; the file is damaged."));

        // A file without them (saved before they were kept) loads into whatever settings the optimizer has.
        EditedSafeTensors.EditMetadata(optimizerFile, metadata =>
        {
            foreach (var key in metadata.Keys.Where(k => k.StartsWith("tensorlet.group.", StringComparison.Ordinal)).ToList())
            {
                metadata.Remove(key);
            }
        });
        using var model = Model(TestDevices.Get("cpu"), seed: 2);
        using var other = new Adam(BetaGroups(model.Parameters, 0.99f), 0.01f);
        ModuleCheckpoint.Load(model, path, other);
        Assert.That(other.StepCount, Is.EqualTo(2));

        static ParameterGroup[] BetaGroups(ParameterCollection parameters, float beta2)
        {
            var (weights, biases) = Tensorlet.Tests.Nn.ParameterGroupTests.WeightsAndBiases(parameters);
            return [new ParameterGroup(weights), new ParameterGroup(biases) { Beta1 = 0.5f, Beta2 = beta2 }];
        }
    }

    [Test]
    public void TrainingWithParameterGroupsResumesWithEachGroupsLearningRateAndSchedule()
    {
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "model.safetensors");
        var withoutSchedule = Path.Combine(folder, "plain.safetensors");
        using var model = Model(device, seed: 1);
        using var adamW = new AdamW(Groups(model.Parameters), 0.02f, weightDecay: 0.1f);
        var schedule = new StepLR(adamW, stepSize: 2, gamma: 0.5);
        StepsWithSchedule(model, adamW, schedule, everyStep: false, 0, 5);
        ModuleCheckpoint.Save(model, path, adamW, schedule);
        var saved = (adamW.GetLearningRate(0), adamW.GetLearningRate(1));
        adamW.SetLearningRate(1, 0.003f);
        ModuleCheckpoint.Save(model, withoutSchedule, adamW);
        adamW.SetLearningRate(1, saved.Item2);
        StepsWithSchedule(model, adamW, schedule, everyStep: false, 5, 11);

        // Made with other rates: the saved state sets each group's.
        using var resumed = Model(device, seed: 2);
        using var resumedAdamW = new AdamW(Groups(resumed.Parameters, biasLearningRate: 0.5f), 0.5f, weightDecay: 0.1f);
        var resumedSchedule = new StepLR(resumedAdamW, stepSize: 2, gamma: 0.5);
        ModuleCheckpoint.Load(resumed, path, resumedAdamW, resumedSchedule);
        Assert.That((resumedAdamW.GetLearningRate(0), resumedAdamW.GetLearningRate(1)), Is.EqualTo(saved));
        StepsWithSchedule(resumed, resumedAdamW, resumedSchedule, everyStep: false, 5, 11);
        Assert.That(resumedSchedule.StateDict(), Is.EqualTo(schedule.StateDict()));
        Assert.That(resumed.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()), "bit for bit");

        using var again = new AdamW(Groups(resumed.Parameters), 0.5f, weightDecay: 0.1f);
        ModuleCheckpoint.Load(resumed, withoutSchedule, again);
        Assert.That((again.GetLearningRate(0), again.GetLearningRate(1)), Is.EqualTo((saved.Item1, 0.003f)), "without a schedule too, as torch's load_state_dict");
    }

    // The optimizer file holds each group's initial rate (torch's initial_lr), so a schedule made after the load replays
    // from the run's base rates, not from the rates it stopped at, as torch's (scripts/make_schedule_group_fixtures.py).
    // A file without them (saved before they were kept) loads the rates the optimizer was made with.
    [TestCase(true)]
    [TestCase(false)]
    public void AScheduleMadeAfterLoadingReplaysFromEachGroupsInitialRateAsTorchs(bool fileHoldsInitialRates)
    {
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/schedule_groups.safetensors"));
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "model.safetensors");
        using var model = Model(device, seed: 1);
        using var adam = new Adam(Groups(model.Parameters, biasLearningRate: 0.01f), 0.1f);
        var schedule = new WarmupCosineLR(adam, warmupSteps: 0, totalSteps: 10);
        StepsWithSchedule(model, adam, schedule, everyStep: true, 0, 5);
        ModuleCheckpoint.Save(model, path, adam);
        if (!fileHoldsInitialRates)
        {
            EditedSafeTensors.EditMetadata(EditedSafeTensors.OptimizerFileOf(path), metadata => Assert.That(metadata.Remove("tensorlet.initial_learning_rates")));
        }

        // Made with other rates, the file's initial rates are loaded; without them, the rates it is made with are taken.
        using var resumed = Model(device, seed: 2);
        using var resumedAdam = fileHoldsInitialRates
            ? new Adam(Groups(resumed.Parameters, biasLearningRate: 0.5f), 0.5f)
            : new Adam(Groups(resumed.Parameters, biasLearningRate: 0.01f), 0.1f);
        ModuleCheckpoint.Load(resumed, path, resumedAdam);
        var replay = new WarmupCosineLR(resumedAdam, warmupSteps: 0, totalSteps: 10);
        var loaded = (resumedAdam.GetInitialLearningRate(0), resumedAdam.GetInitialLearningRate(1));
        for (int i = 0; i < 5; i++)
        {
            replay.Step();
        }

        Assert.That(loaded, Is.EqualTo(((float?)fixture["resume_loaded_initial_lr"].Data[0], (float?)fixture["resume_loaded_initial_lr"].Data[1])), "torch's initial_lr");
        Assert.That(replay.BaseLearningRates, Is.EqualTo(schedule.BaseLearningRates));
        Assert.That(replay.LearningRates, Is.EqualTo(schedule.LearningRates), "the uninterrupted run's rates");
        for (int g = 0; g < 2; g++)
        {
            double torch = fixture["resume_replayed_lr"].Data[g];
            Assert.That(replay.LearningRates[g], Is.EqualTo(torch).Within(1e-7 * torch), $"torch's replayed rate, group {g}");
        }
    }

    [Test]
    public void AnOptimizerStateOfOtherParameterGroupsIsRefusedAndNothingChanges()
    {
        var path = Path.Combine(folder, "model.safetensors");
        var whole = Path.Combine(folder, "whole.safetensors");
        var optimizerFile = SaveTrained(path, p => new AdamW(Groups(p), 0.01f), steps: 2).OptimizerFile;
        var wholeFile = SaveTrained(whole, p => new AdamW(p, 0.01f), steps: 2).OptimizerFile;
        string Refused(string file) => $"{file} holds the state of other parameter groups than the AdamW's: ";

        Assert.That(LoadRefused(path, p => new AdamW(p, 0.01f), steps: 1), Is.EqualTo(Refused(optimizerFile) + "it has 2 parameter groups and this optimizer has 1."));
        Assert.That(LoadRefused(whole, p => new AdamW(Groups(p), 0.01f), steps: 1), Is.EqualTo(Refused(wholeFile) + "it has 1 parameter group and this optimizer has 2."));
        Assert.That(
            LoadRefused(path, p => new AdamW([.. Groups(p).Reverse()], 0.01f), steps: 1),
            Is.EqualTo(Refused(optimizerFile) + "parameter '0.weight' is in group 0 there and in group 1 here."));

        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.groups"] = "0,1,x");
        Assert.That(LoadRefused(path, p => new AdamW(Groups(p), 0.01f), steps: 1), Is.EqualTo($"{optimizerFile} has a malformed 'tensorlet.groups': '0,1,x'."));
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.groups"] = "0,0,0,1,1,0,1");
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.learning_rates"] = "0.01,NaN");
        Assert.That(LoadRefused(path, p => new AdamW(Groups(p), 0.01f), steps: 1), Is.EqualTo(Refused(optimizerFile) + "group 1's learning rate is NaN; it must be a finite number of at least 0."));
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.learning_rates"] = "0.01,0.03");
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.initial_learning_rates"] = "0.01");
        Assert.That(LoadRefused(path, p => new AdamW(Groups(p), 0.01f), steps: 1), Is.EqualTo(Refused(optimizerFile) + "it has 1 initial learning rate and this optimizer has 2 parameter groups."));
        EditedSafeTensors.EditMetadata(optimizerFile, metadata => metadata["tensorlet.initial_learning_rates"] = "0.01,-1");
        Assert.That(LoadRefused(path, p => new AdamW(Groups(p), 0.01f), steps: 1), Is.EqualTo(Refused(optimizerFile) + "group 1's initial learning rate is -1; it must be a finite number of at least 0."));
    }

    [Test]
    public void AnOptimizerFileSavedBeforeParameterGroupsLoadsIntoOneGroupAndKeepsItsLearningRate()
    {
        var device = TestDevices.Get("cpu");
        var path = Path.Combine(folder, "model.safetensors");
        var optimizerFile = SaveTrained(path, p => new Adam(p, 0.01f), steps: 2).OptimizerFile;
        EditedSafeTensors.EditMetadata(optimizerFile, metadata =>
        {
            metadata.Remove("tensorlet.groups");
            metadata.Remove("tensorlet.learning_rates");
        });

        using var model = Model(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.03f);
        ModuleCheckpoint.Load(model, path, adam);
        Assert.That((adam.StepCount, adam.LearningRate), Is.EqualTo((2, 0.03f)));
        Assert.That(
            LoadRefused(path, p => new Adam(Groups(p), 0.01f), steps: 0),
            Is.EqualTo($"{optimizerFile} holds the state of other parameter groups than the Adam's: it has 1 parameter group and this optimizer has 2."));
    }

    // The weights and the biases (which alternate in the model's parameters), the biases at their own learning rate without weight decay.
    // Weights and biases, with the biases amsgrad (Adam, AdamW) or the weights centered (RMSprop), as flag says.
    private static ParameterGroup[] FlagGroups(ParameterCollection parameters, bool amsgrad, bool flag = true)
    {
        var (weights, biases) = Tensorlet.Tests.Nn.ParameterGroupTests.WeightsAndBiases(parameters);
        return amsgrad
            ? [new ParameterGroup(weights), new ParameterGroup(biases) { Amsgrad = flag }]
            : [new ParameterGroup(weights) { Centered = flag }, new ParameterGroup(biases)];
    }

    // The first weight frozen and left out of every group, the other weights and the biases (amsgrad with amsgrad) in two.
    private static ParameterGroup[] FrozenOutGroups(ParameterCollection parameters, bool amsgrad = false)
    {
        var frozen = parameters.Parameters[0];
        frozen.RequiresGradient = false;
        var (weights, biases) = Tensorlet.Tests.Nn.ParameterGroupTests.WeightsAndBiases(parameters);
        return [new ParameterGroup(weights.Where(p => p != frozen)), new ParameterGroup(biases) { Amsgrad = amsgrad ? true : null }];
    }

    private static ParameterGroup[] Groups(ParameterCollection parameters, float biasLearningRate = 0.03f)
    {
        var (weights, biases) = Tensorlet.Tests.Nn.ParameterGroupTests.WeightsAndBiases(parameters);
        return [new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = biasLearningRate, WeightDecay = 0f }];
    }

    // Steps [from, to), the schedule stepped after each step, or after every second one with that step's loss as the metric.
    private static void StepsWithSchedule(Sequential model, IOptimizer optimizer, LearningRateSchedule schedule, bool everyStep, int from, int to)
    {
        for (int step = from; step < to; step++)
        {
            double loss = Steps(model, optimizer, step, step + 1);
            if (everyStep || step % 2 == 1)
            {
                schedule.Step(schedule.NeedsMetric ? loss : null);
            }
        }
    }

    // Saves the model of `seed` at `path` with the optimizer makeOptimizer gives, after `steps` steps; returns the
    // optimizer file, the optimizer's type name and whether it has no state tensors (plain SGD).
    private static (string OptimizerFile, string Optimizer, bool Stateless) SaveTrained(string path, Func<ParameterCollection, IOptimizer> makeOptimizer, int steps, int seed = 1)
    {
        using var model = Model(TestDevices.Get("cpu"), seed);
        using var optimizer = makeOptimizer(model.Parameters);
        Steps(model, optimizer, 0, steps);
        ModuleCheckpoint.Save(model, path, optimizer);
        return (EditedSafeTensors.OptimizerFileOf(path), optimizer.GetType().Name, optimizer is Sgd { HasMomentumBuffer: false });
    }

    // Loads `path` with its optimizer state into the model of seed 2 and the optimizer makeOptimizer gives, after
    // `steps` steps of their own; checks that the load is refused and changes neither, then runs `andThen` on them, and
    // returns the refusal's message.
    private static string LoadRefused(string path, Func<ParameterCollection, IOptimizer> makeOptimizer, int steps, Action<Sequential, IOptimizer>? andThen = null)
    {
        using var target = Model(TestDevices.Get("cpu"), seed: 2);
        using var optimizer = makeOptimizer(target.Parameters);
        Steps(target, optimizer, 0, steps);
        var weights = target.Parameters.Values.ToArray();
        var e = Assert.Throws<CheckpointException>(() => ModuleCheckpoint.Load(target, path, optimizer))!;
        Assert.That(target.Parameters.Values.ToArray(), Is.EqualTo(weights), "the module is unchanged");
        Assert.That(optimizer.StepCount, Is.EqualTo(steps), "the optimizer is unchanged");
        andThen?.Invoke(target, optimizer);
        return e.Message;
    }

    private static Sequential Model(Device device, int seed)
    {
        var model = new Sequential(new Embedding(5, 4), new Lstm(4, 6), new Linear(6, 5));
        model.Build(device, seed);
        return model;
    }

    // Steps [from, to) of a fixed little task: each step's ids and targets depend on the step only.
    private static double Steps(Sequential model, IOptimizer optimizer, int from, int to)
    {
        var device = model.Device;
        using var loss = new CrossEntropyLoss();
        double last = double.NaN;
        for (int step = from; step < to; step++)
        {
            int[] ids = [.. Enumerable.Range(0, 6).Select(i => (i * 3 + step) % 5)];
            int[] targets = [.. Enumerable.Range(0, 6).Select(i => (i + 2 * step) % 5)];
            using var input = device.IndexFromArray(ids, 3, 2);
            using var target = device.IndexFromArray(targets, 6);
            optimizer.ZeroGradients();
            last = loss.Forward(model.Forward(input), target);
            model.Backward(loss.Backward());
            optimizer.Step();
        }

        return last;
    }

    // `steps` steps of a Linear(1, 1) on x = 2e10, y = 0 under MseLoss: a weight gradient of about -4e20, whose square
    // overflows float.
    private static void OverflowingSteps(Sequential model, IOptimizer optimizer, int steps)
    {
        var device = model.Device;
        using var loss = new MseLoss();
        using var x = device.FromArray([2e10f], 1, 1);
        using var y = device.FromArray([0f], 1, 1);
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGradients();
            loss.Forward(model.Forward(x), y);
            model.Backward(loss.Backward());
            optimizer.Step();
        }
    }

    internal sealed class HalvingOptimizer(ParameterCollection parameters) : IOptimizer
    {
        public ParameterCollection Parameters => parameters;

        public float LearningRate { get; set; } = 0.5f;

        public int StepCount { get; private set; }

        public void Step() => StepCount++;

        public void ZeroGradients() => Parameters.ZeroGradients();

        public void Dispose()
        {
        }
    }
}
