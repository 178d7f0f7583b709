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
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Sgd(p, 0.05f, momentum: 0.9f, nesterov: true))).SetArgDisplayNames("Sgd, Nesterov momentum");
        yield return new TestCaseData((Func<ParameterCollection, IOptimizer>)(p => new Sgd(p, 0.05f))).SetArgDisplayNames("Sgd");
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
        bool stateless = optimizer is Sgd { Momentum: 0f };
        Assert.That(restarted.Parameters.Values.ToArray(), stateless ? Is.EqualTo(model.Parameters.Values.ToArray()) : Is.Not.EqualTo(model.Parameters.Values.ToArray()));
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

        // The optimizer file damaged: its step count.
        var optimizerFile = Directory.GetFiles(folder, "adam.optimizer.*.safetensors").Single();
        var bytes = File.ReadAllBytes(optimizerFile);
        File.WriteAllBytes(optimizerFile, bytes[..^4]);
        Refused(withAdam, targetAdam, "truncated");
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
        Assert.That(ex.Message, Does.StartWith("Checkpoints hold the state of Adam, AdamW and Sgd, not of HalvingOptimizer."));
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

    private static Sequential Model(Device device, int seed)
    {
        var model = new Sequential(new Embedding(5, 4), new Lstm(4, 6), new Linear(6, 5));
        model.Build(device, seed);
        return model;
    }

    // Steps [from, to) of a fixed little task: each step's ids and targets depend on the step only.
    private static void Steps(Sequential model, IOptimizer optimizer, int from, int to)
    {
        var device = model.Device;
        using var loss = new CrossEntropyLoss();
        for (int step = from; step < to; step++)
        {
            int[] ids = [.. Enumerable.Range(0, 6).Select(i => (i * 3 + step) % 5)];
            int[] targets = [.. Enumerable.Range(0, 6).Select(i => (i + 2 * step) % 5)];
            using var input = device.IndexFromArray(ids, 3, 2);
            using var target = device.IndexFromArray(targets, 6);
            optimizer.ZeroGradients();
            loss.Forward(model.Forward(input), target);
            model.Backward(loss.Backward());
            optimizer.Step();
        }
    }

    private sealed class HalvingOptimizer(ParameterCollection parameters) : IOptimizer
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
