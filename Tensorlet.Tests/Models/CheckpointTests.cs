using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

public sealed class CheckpointTests
{
    private static readonly CharVocabulary Characters = CharVocabulary.FromTexts(["abcdefg "]);
    private string folder = null!;

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("tensorlet-checkpoint-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    // Before, only the LSTM's seed was saved: a GRU came back with seed 0 and drew other dropout masks on resume.
    [Test]
    public void AGruCheckpointKeepsItsDropoutSeed()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Gru(Characters.Count, 6, 2, 0.5f);
        using var model = (GruCharModel)spec.Create(device, seed: 5);
        var path = Path.Combine(folder, "gru.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
        using var loaded = (GruCharModel)ModelCheckpoint.Read(path, ModelKind.Gru).CreateModel(device);
        Assert.That(loaded.DropoutSeed, Is.EqualTo(5UL));
    }

    [Test]
    public void LstmCheckpointRoundTripsWeightsMetadataAndOptimizerState()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 6, 2, 0.5f);
        using var model = (LstmCharModel)spec.Create(device, seed: 9);
        using var adam = new Adam(model.Parameters, 0.01f);
        TrainSteps(model, adam, 2);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(1, 3, adam.StepCount), adam);

        var checkpoint = ModelCheckpoint.Read(path, ModelKind.Lstm);
        Assert.That(checkpoint.Spec, Is.EqualTo(spec));
        Assert.That(checkpoint.Vocabulary, Is.EqualTo(Characters));
        Assert.That(checkpoint.Position, Is.EqualTo(new TrainingPosition(1, 3, 2)));
        using var loaded = (LstmCharModel)checkpoint.CreateModel(device);
        Assert.That(loaded.DropoutSeed, Is.EqualTo(model.DropoutSeed), "the dropout masks of a resumed run");
        Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));
        using var adam2 = new Adam(loaded.Parameters, 0.01f);
        checkpoint.LoadOptimizerState(loaded, adam2);
        Assert.That(adam2.SaveState().FirstMoment, Is.EqualTo(adam.SaveState().FirstMoment));
        Assert.That(adam2.SaveState().SecondMoment, Is.EqualTo(adam.SaveState().SecondMoment));
        Assert.That(adam2.StepCount, Is.EqualTo(2));

        // One more identical step on each gives identical weights: the resume is exact.
        TrainSteps(model, adam, 1);
        TrainSteps(loaded, adam2, 1);
        Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));

        // The model file holds exactly the PyTorch state_dict names, so load_state_dict(strict=True) accepts it.
        Assert.That(SafeTensorsFile.Read(path).Tensors.Keys, Is.EquivalentTo(model.Parameters.Parameters.Select(p => p.Name)));
    }

    private static IEnumerable<TestCaseData> Optimizers()
    {
        Func<ParameterCollection, IOptimizer> adamW = p => new AdamW(p, 0.01f, weightDecay: 0.1f);
        Func<ParameterCollection, IOptimizer> sgd = p => new Sgd(p, 0.05f, momentum: 0.9f);
        Func<ParameterCollection, IOptimizer> plainSgd = p => new Sgd(p, 0.05f);
        yield return new TestCaseData(adamW).SetArgDisplayNames("AdamW");
        yield return new TestCaseData(sgd).SetArgDisplayNames("Sgd with momentum");
        yield return new TestCaseData(plainSgd).SetArgDisplayNames("Sgd");
    }

    // The state of any optimizer checkpoints hold goes with the model and comes back into a fresh one: the next step is
    // the same; another kind of optimizer is refused and keeps its own state.
    [TestCaseSource(nameof(Optimizers))]
    public void TheStateOfAdamWAndSgdRoundTripsAndTheNextStepIsTheSame(Func<ParameterCollection, IOptimizer> makeOptimizer)
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 6, 2, 0f);
        using var model = spec.Create(device, seed: 9);
        using var optimizer = makeOptimizer(model.Parameters);
        TrainSteps(model, optimizer, 2);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(1, 0, 2), optimizer);

        var checkpoint = ModelCheckpoint.Read(path);
        using var loaded = checkpoint.CreateModel(device);
        using var adam = new Adam(loaded.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => checkpoint.LoadOptimizerState(loaded, adam))!;
        Assert.That(e.Message, Does.EndWith($"holds the state of {optimizer.GetType().Name}, not of the Adam given."));
        Assert.That(adam.StepCount, Is.Zero, "Adam is unchanged");
        using var resumed = makeOptimizer(loaded.Parameters);
        checkpoint.LoadOptimizerState(loaded, resumed);
        Assert.That(resumed.StepCount, Is.EqualTo(2));

        TrainSteps(model, optimizer, 1);
        TrainSteps(loaded, resumed, 1);
        Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()), "the resumed step, bit for bit");
    }

    // A mean of squares that overflowed float (a gradient above about √(FLT_MAX/(1 − β2)), 5.8e20 for β2 = 0.999, in
    // magnitude) is +∞; its weight stays finite, and torch saves and loads it, so the save writes it and the load takes it.
    [TestCase("Adam")]
    [TestCase("RMSprop")]
    public void AMeanOfSquaresThatOverflowedRoundTripsAndTheNextStepIsTheSame(string kind)
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 6, 2, 0f);
        IOptimizer Make(ICharModel m) => kind == "Adam" ? new Adam(m.Parameters, 0.01f) : new RMSprop(m.Parameters, 0.01f, momentum: 0.9f);
        float[] MeanOfSquares(IOptimizer o) => o is Adam a ? a.SaveState().SecondMoment : ((RMSprop)o).SaveState().SquareAverage;
        using var model = spec.Create(device, seed: 9);
        using var optimizer = Make(model);
        TrainSteps(model, optimizer, 2);
        if (optimizer is Adam adam)
        {
            var state = adam.SaveState();
            state.SecondMoment[5] = float.PositiveInfinity;
            adam.LoadState(state);
        }
        else
        {
            var rmsprop = (RMSprop)optimizer;
            var state = rmsprop.SaveState();
            state.SquareAverage[5] = float.PositiveInfinity;
            rmsprop.LoadState(state);
        }

        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(1, 0, 2), optimizer);
        var checkpoint = ModelCheckpoint.Read(path);
        using var loaded = checkpoint.CreateModel(device);
        using var resumed = Make(loaded);
        checkpoint.LoadOptimizerState(loaded, resumed);
        Assert.That(MeanOfSquares(resumed), Is.EqualTo(MeanOfSquares(optimizer)), "bit for bit, the +∞ included");
        Assert.That(MeanOfSquares(resumed)[5], Is.EqualTo(float.PositiveInfinity));

        TrainSteps(model, optimizer, 1);
        TrainSteps(loaded, resumed, 1);
        Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()), "the resumed step, bit for bit");
        Assert.That(loaded.Parameters.Values.ToArray(), Is.All.Matches<float>(float.IsFinite));
    }

    // A save refused for an optimizer state no training gives (NaN, from a step on NaN gradients whose weights were put
    // back) changes neither file of the pair saved before. Before, it was written, and the load refused it as damage.
    [Test]
    public void AnOptimizerStateNoTrainingGivesIsRefusedAtSaveAndThePairOnDiskIsUnchanged()
    {
        using var lstm = new Lstm(folder, steps: 1);
        lstm.Save();
        var files = Directory.GetFiles(folder).ToDictionary(f => f, File.ReadAllBytes);
        var weights = lstm.Model.Parameters.Values.ToArray();
        lstm.Model.Parameters.Gradients.CopyFrom(Enumerable.Repeat(float.NaN, weights.Length).ToArray());
        lstm.Adam.Step();
        lstm.Model.Parameters.Values.CopyFrom(weights);

        var e = Assert.Throws<ArgumentException>(() => lstm.Save())!;

        string first = lstm.Model.Parameters.Parameters[0].Name;
        Assert.That(e.Message, Does.StartWith($"The Adam's state cannot be saved: tensor 'exp_avg.{first}' holds a non-finite value (NaN) at element 0,").And.Not.Contain('\n'));
        Assert.That(e.ParamName, Is.EqualTo("optimizer"));
        Assert.That(Directory.GetFiles(folder), Is.EquivalentTo(files.Keys), "no file added or removed");
        Assert.That(files.Keys.Select(File.ReadAllBytes), Is.EqualTo(files.Values), "both files as they were");
    }

    [TestCase(ModelKind.Lstm)]
    [TestCase(ModelKind.Gru)]
    [TestCase(ModelKind.Rnn)]
    public void ARecurrentModelIsRebuiltWithAnotherDropoutAndTheSameWeights(ModelKind kind)
    {
        var device = TestDevices.Get("cpu");
        var spec = kind switch
        {
            ModelKind.Gru => CharModelSpec.Gru(Characters.Count, 5, 2, 0.5f),
            ModelKind.Rnn => CharModelSpec.Rnn(Characters.Count, 5, 2, 0.5f),
            _ => CharModelSpec.Lstm(Characters.Count, 5, 2, 0.5f),
        };
        using var model = spec.Create(device, seed: 4);
        var path = Path.Combine(folder, "model.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
        var checkpoint = ModelCheckpoint.Read(path);

        using var rebuilt = (RnnCharModel)checkpoint.CreateModel(device, dropout: 0.1f);

        Assert.That(rebuilt.Dropout, Is.EqualTo(0.1f));
        Assert.That(((RnnCharModel)model).Dropout, Is.EqualTo(0.5f));
        Assert.That(rebuilt.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.CreateModel(device, dropout: 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.CreateModel(device, dropout: float.NaN));
    }

    [Test]
    public void AnNgramModelHasNoDropoutToSet()
    {
        var saved = SaveNgram(["ab", "ba"], Activation.Relu, seed: 1);
        using var model = saved.Model;

        var error = Assert.Throws<InvalidOperationException>(() => ModelCheckpoint.Read(saved.Path).CreateModel(model.Device, dropout: 0.2f))!;

        Assert.That(error.Message, Does.Contain("n-gram model"));
    }

    [Test]
    public void NgramCheckpointKeepsTheNgramVocabulary()
    {
        var saved = SaveNgram(["ab", "ba", "g "], Activation.Sigmoid, seed: 1);
        using var model = saved.Model;
        var checkpoint = ModelCheckpoint.Read(saved.Path);
        Assert.That(checkpoint.Ngrams!.Ngrams, Is.EqualTo(saved.Ngrams.Ngrams));
        Assert.That(checkpoint.Spec.Activation, Is.EqualTo(Activation.Sigmoid));
        Assert.That(SafeTensorsFile.Read(saved.Path).Tensors.Keys, Is.EquivalentTo(new[] { "L1.weight", "L1.bias", "L2.weight", "L2.bias" }));
    }

    [Test]
    public void WrongModelDifferentVocabularyAndTruncationGetClearErrors()
    {
        using var lstm = new Lstm(folder, seed: 1);
        var path = lstm.Path;
        lstm.Save(withOptimizer: false);

        var wrongKind = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path, ModelKind.Ngram));
        Assert.That(wrongKind!.Message, Does.Contain(path).And.Contain("LSTM").And.Contain("n-gram"));

        var other = CharVocabulary.FromTexts(["abcdefgxy\n"]);
        var vocabulary = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).EnsureVocabulary(other));
        Assert.That(
            vocabulary!.Message,
            Is.EqualTo($"{path} was trained on a different vocabulary (8 characters) from the data's (10): the data has U+000A, 'x', 'y' that the checkpoint lacks; the checkpoint has ' ' that the data lacks."),
            "one line, whatever the characters");

        var noOptimizer = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(lstm.Model, new Adam(lstm.Model.Parameters)));
        Assert.That(noOptimizer!.Message, Is.EqualTo($"{path} holds no optimizer state (it was saved without one, as a .best checkpoint is): training cannot go on from it."));

        var bytes = File.ReadAllBytes(path);
        var truncated = Path.Combine(folder, "truncated.safetensors");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 10)]);
        var ex = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(truncated));
        Assert.That(ex!.Message, Does.Contain("truncated.safetensors").And.Contain("truncated"));

        var missing = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(Path.Combine(folder, "nope.safetensors")));
        Assert.That(missing!.Message, Does.Contain("nope.safetensors"));
    }

    [Test]
    public void ACheckpointWhoseSpecUsesTheOlderKeysStillLoads()
    {
        var saved = SaveNgram(["ab", "ba", "g "], Activation.Tanh, seed: 3, new TrainingPosition(1, 2, 3));
        using var model = saved.Model;

        // Rewrite the spec as the code before the key renames wrote it, keeping everything else.
        EditedSafeTensors.EditMetadata(saved.Path, metadata => metadata["tensorlet.spec"] =
            $$"""{"kind":"ngram","vocabulary_size":{{Characters.Count}},"hidden_size":4,"layers":1,"dropout":0,"n":2,"ngram_vocabulary_size":{{saved.Ngrams.Count}},"activation":"tanh"}""");

        var checkpoint = ModelCheckpoint.Read(saved.Path, ModelKind.Ngram);
        Assert.That(checkpoint.Spec, Is.EqualTo(saved.Spec));
        using var loaded = checkpoint.CreateModel(model.Device);
        Assert.That(loaded.Parameters.Values.ToArray(), Is.EqualTo(model.Parameters.Values.ToArray()));
    }

    [Test]
    public void AForeignSafetensorsFileIsRefused()
    {
        var path = Path.Combine(folder, "foreign.safetensors");
        SafeTensorsFile.Write(path, [new SafeTensor("w", [2], [1f, 2f])]);
        var ex = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path));
        Assert.That(ex!.Message, Does.Contain("not a Tensorlet model checkpoint"));
    }

    [Test]
    public void ASaveReplacesTheModelAndOptimizerFilesAsOnePair()
    {
        using var lstm = new Lstm(folder, steps: 1);
        var path = lstm.Path;
        lstm.Save();
        var first = lstm.OptimizerFile;
        TrainSteps(lstm.Model, lstm.Adam, 1);
        lstm.Save();

        // The new pair has a new optimizer file, named by the model file; the old one is gone once the model file is replaced.
        var second = lstm.OptimizerFile;
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That(SafeTensorsFile.Read(path).Metadata["tensorlet.optimizer_file"], Is.EqualTo(Path.GetFileName(second)));
        using var adam2 = new Adam(lstm.Model.Parameters, 0.01f);
        ModelCheckpoint.Read(path).LoadOptimizerState(lstm.Model, adam2);
        Assert.That(adam2.SaveState().SecondMoment, Is.EqualTo(lstm.Adam.SaveState().SecondMoment));

        // Saving without an optimizer drops the optimizer file: it would belong to another step.
        lstm.Save(withOptimizer: false);
        Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { path }));
        ModelCheckpoint.Delete(path);
        Assert.That(Directory.GetFiles(folder), Is.Empty);
    }

    [Test]
    public void LeftoversOfAKilledSaveAreRemovedAndThePairIsKept()
    {
        using var lstm = new Lstm(folder);
        lstm.Save();
        var named = lstm.OptimizerFile;

        // What a kill leaves at each step: a 0-byte temporary of either file, or a complete optimizer file the model
        // file does not name yet. Files of another model in the folder are not touched.
        string[] leftovers = [".lstm.safetensors.0123.tmp", ".lstm.optimizer.feed.safetensors.4567.tmp", "lstm.optimizer.feed.safetensors"];
        foreach (var name in leftovers)
        {
            File.WriteAllBytes(Path.Combine(folder, name), []);
        }

        File.Copy(named, Path.Combine(folder, "ngram.optimizer.beef.safetensors"));
        ModelCheckpoint.RemoveLeftovers(lstm.Path);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "lstm.safetensors", Path.GetFileName(named), "ngram.optimizer.beef.safetensors" }.Order()));
        using var adam2 = new Adam(lstm.Model.Parameters, 0.01f);
        Assert.DoesNotThrow(() => ModelCheckpoint.Read(lstm.Path).LoadOptimizerState(lstm.Model, adam2));
    }

    [TestCase(float.NaN)]
    [TestCase(float.NegativeInfinity)]
    public void AWeightThatIsNotFiniteIsRefusedOnLoad(float value)
    {
        using var lstm = new Lstm(folder);
        lstm.Save(withOptimizer: false);
        EditedSafeTensors.SetElement(lstm.Path, "output.bias", 3, value);

        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(lstm.Path).CreateModel(lstm.Device));
        Assert.That(e!.Message, Is.EqualTo($"{lstm.Path}: tensor 'output.bias' holds a non-finite value ({value}) at element 3; the file is damaged."));
    }

    [Test]
    public void AnIntegerWeightOrOptimizerStateIsRefusedOnLoad()
    {
        using var lstm = new Lstm(folder, steps: 1);
        var path = lstm.Path;
        lstm.Save();
        var optimizerFile = lstm.OptimizerFile;

        // The optimizer state: the model loads, the state does not, and Adam keeps its own.
        EditedSafeTensors.Retype(optimizerFile, "exp_avg_sq.output.bias", "I64");
        using var loaded = ModelCheckpoint.Read(path).CreateModel(lstm.Device);
        using var adam2 = new Adam(loaded.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(loaded, adam2))!;
        Assert.That(e.Message, Is.EqualTo($"{optimizerFile}: tensor 'exp_avg_sq.output.bias' is I64, an integer dtype, which cannot hold Adam's state: only F32, F64, F16 and BF16 tensors are read as float32."));
        Assert.That((adam2.StepCount, adam2.SaveState().SecondMoment.All(v => v == 0f)), Is.EqualTo((0, true)), "Adam is unchanged");

        EditedSafeTensors.Retype(path, "output.weight", "BOOL");
        e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).CreateModel(lstm.Device))!;
        Assert.That(e.Message, Is.EqualTo($"{path}: tensor 'output.weight' is BOOL, a bool dtype, which cannot hold the model's weights: only F32, F64, F16 and BF16 tensors are read as float32."));
    }

    [Test]
    public void ATrainingPositionPastInt32StepsRoundTrips()
    {
        // Before, Save wrote the long step and Read parsed it as an int: "malformed number in its metadata: '3000000000'".
        using var lstm = new Lstm(folder);
        var position = new TrainingPosition(3, 0, 3_000_000_000L);
        ModelCheckpoint.Save(lstm.Path, lstm.Model, lstm.Spec, Characters, null, position);
        Assert.That(ModelCheckpoint.Read(lstm.Path).Position, Is.EqualTo(position));
        ModelCheckpoint.Save(lstm.Path, lstm.Model, lstm.Spec, Characters, null, new TrainingPosition(int.MaxValue, int.MaxValue, long.MaxValue));
        Assert.That(ModelCheckpoint.Read(lstm.Path).Position, Is.EqualTo(new TrainingPosition(int.MaxValue, int.MaxValue, long.MaxValue)));
    }

    [TestCase(-4, -1, -9L)]
    [TestCase(-1, 0, 0L)]
    [TestCase(0, -1, 0L)]
    [TestCase(0, 0, -1L)]
    public void ANegativeTrainingPositionIsNeitherSavedNorRead(int epoch, int batch, long step)
    {
        using var lstm = new Lstm(folder);
        var path = lstm.Path;
        var bad = new TrainingPosition(epoch, batch, step);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelCheckpoint.Save(path, lstm.Model, lstm.Spec, Characters, null, bad, lstm.Adam))!;
        Assert.That(e.Message, Does.StartWith($"A training position counts from 0; got epoch {epoch}, batch {batch}, step {step}."));
        Assert.That(e.ParamName, Is.EqualTo("position"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "nothing written");

        // Written by other means: Read refuses it, naming the first negative count.
        lstm.Save(withOptimizer: false);
        EditedSafeTensors.EditMetadata(path, metadata =>
        {
            metadata["tensorlet.epoch"] = epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);
            metadata["tensorlet.batch_in_epoch"] = batch.ToString(System.Globalization.CultureInfo.InvariantCulture);
            metadata["tensorlet.step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        var (key, text) = epoch < 0 ? ("tensorlet.epoch", $"{epoch}") : batch < 0 ? ("tensorlet.batch_in_epoch", $"{batch}") : ("tensorlet.step", $"{step}");
        var read = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path))!;
        Assert.That(read.Message, Is.EqualTo($"{path} has a negative training position in its metadata: {key} is '{text}'; the file is damaged."));
    }

    [TestCase(0L)]
    [TestCase(2L)]
    public void AnOptimizerOfAnotherStepThanThePositionIsRefusedAtSaveAndNothingIsWritten(long step)
    {
        using var lstm = new Lstm(folder, steps: 1);

        var e = Assert.Throws<ArgumentException>(() => ModelCheckpoint.Save(lstm.Path, lstm.Model, lstm.Spec, Characters, null, new TrainingPosition(0, 1, step), lstm.Adam))!;

        Assert.That(e.Message, Does.StartWith($"The optimizer has taken 1 steps but the training position is at step {step}; a checkpoint holds both at one step, so resuming would refuse this one."));
        Assert.That(e.ParamName, Is.EqualTo("optimizer"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "nothing written");
    }

    // A save refused for a non-finite weight changes neither file of the pair saved before: both stay, byte for byte.
    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void ANonFiniteWeightIsRefusedAtSaveAndThePairOnDiskIsUnchanged(float value)
    {
        using var lstm = new Lstm(folder, steps: 1);
        lstm.Save();
        var files = Directory.GetFiles(folder).ToDictionary(f => f, File.ReadAllBytes);
        Assert.That(files, Has.Count.EqualTo(2), "the model file and its optimizer file");
        TrainSteps(lstm.Model, lstm.Adam, 1);
        var bias = lstm.Model.Parameters.Parameters.Single(p => p.Name == "output.bias");
        var values = bias.Value.ToArray();
        values[3] = value;
        bias.Value.CopyFrom(values);

        var e = Assert.Throws<ArgumentException>(() => lstm.Save())!;

        Assert.That(e.Message, Does.StartWith($"The model's 'output.bias' holds a non-finite value ({value}) at element 3;").And.Not.Contain('\n'));
        Assert.That(e.ParamName, Is.EqualTo("model"));
        Assert.That(Directory.GetFiles(folder), Is.EquivalentTo(files.Keys), "no file added or removed");
        Assert.That(files.Keys.Select(File.ReadAllBytes), Is.EqualTo(files.Values), "both files as they were");
        Assert.That(ModelCheckpoint.Read(lstm.Path).Position.Step, Is.EqualTo(1), "the previous checkpoint");
    }

    [TestCase("tensorlet.epoch", "3000000000")]
    [TestCase("tensorlet.batch_in_epoch", "1.5")]
    [TestCase("tensorlet.step", "9223372036854775808")]
    [TestCase("tensorlet.step", "x")]
    public void AMalformedTrainingPositionIsRefused(string key, string text)
    {
        using var lstm = new Lstm(folder);
        lstm.Save(withOptimizer: false);
        EditedSafeTensors.EditMetadata(lstm.Path, metadata => metadata[key] = text);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(lstm.Path))!;
        Assert.That(e.Message, Is.EqualTo($"{lstm.Path} has a malformed number in its metadata: {key} is '{text}'."));
    }

    [Test]
    public void AModelFileThatNamesNoOptimizerFileHereCostsNoOptimizerState()
    {
        using var lstm = new Lstm(folder);
        var path = lstm.Path;
        lstm.Save();
        var named = lstm.OptimizerFile;
        var kept = File.ReadAllBytes(named);

        // Copied in by hand over the checkpoint: a model saved without optimizer state (as the best one is), then one
        // that names another run's optimizer file.
        var other = Path.Combine(folder, "other", "lstm.safetensors");
        ModelCheckpoint.Save(other, lstm.Model, lstm.Spec, Characters, null, lstm.Position);
        File.Copy(other, path, overwrite: true);
        ModelCheckpoint.RemoveLeftovers(path);
        Assert.That(File.ReadAllBytes(named), Is.EqualTo(kept), "a model file with no optimizer file named");
        ModelCheckpoint.Save(other, lstm.Model, lstm.Spec, Characters, null, lstm.Position, lstm.Adam);
        File.Copy(other, path, overwrite: true);
        ModelCheckpoint.RemoveLeftovers(path);
        Assert.That(File.ReadAllBytes(named), Is.EqualTo(kept), "a model file naming an optimizer file that is not here");
        using var adam2 = new Adam(lstm.Model.Parameters, 0.01f);
        Assert.That(
            Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(lstm.Model, adam2))!.Message,
            Does.Contain("as its optimizer state, which is not beside it"));
    }

    [Test]
    public void ASaveAndADeleteRemoveTheirModelsLeftoversAndNothingElse()
    {
        using var lstm = new Lstm(folder);
        var path = lstm.Path;

        // A killed save's temporaries of the model and of its optimizer file, and files a save must leave alone: another
        // model's optimizer file and a file that only starts like an optimizer file.
        string[] leftovers = [".lstm.safetensors.0123.tmp", ".lstm.optimizer.feed.safetensors.4567.tmp"];
        string[] others = ["ngram.optimizer.beef.safetensors", "lstm.optimizers-notes.safetensors"];
        foreach (var name in leftovers.Concat(others))
        {
            File.WriteAllBytes(Path.Combine(folder, name), []);
        }

        lstm.Save();

        var named = SafeTensorsFile.Read(path).Metadata["tensorlet.optimizer_file"];
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(others.Append("lstm.safetensors").Append(named).Order()));

        foreach (var name in leftovers)
        {
            File.WriteAllBytes(Path.Combine(folder, name), []);
        }

        ModelCheckpoint.Delete(path);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(others.Order()));

        // Nothing to tidy where the folder does not exist.
        Assert.DoesNotThrow(() => ModelCheckpoint.RemoveLeftovers(Path.Combine(folder, "missing", "lstm.safetensors")));
        Assert.DoesNotThrow(() => AtomicFile.RemoveLeftovers(Path.Combine(folder, "missing", "metrics.csv")));
    }

    [Test]
    public void AnAtomicWriteChecksItsArguments()
    {
        Assert.Throws<ArgumentException>(() => AtomicFile.Write("", _ => { }));
        Assert.Throws<ArgumentNullException>(() => AtomicFile.Write(null!, _ => { }));
        Assert.Throws<ArgumentNullException>(() => AtomicFile.Write(Path.Combine(folder, "a"), null!));
        Assert.Throws<ArgumentException>(() => AtomicFile.RemoveLeftovers(""));
        Assert.ThrowsAsync<ArgumentNullException>(() => AtomicFile.WriteAsync(null!, (_, _) => Task.CompletedTask, CancellationToken.None));
        Assert.ThrowsAsync<ArgumentNullException>(() => AtomicFile.WriteAsync(Path.Combine(folder, "a"), null!, CancellationToken.None));
        Assert.That(Directory.GetFiles(folder), Is.Empty, "nothing written");
    }

    [Test]
    public void AnAtomicWriteToAFolderSaysSoAndWritesNothing()
    {
        var target = Directory.CreateDirectory(Path.Combine(folder, "run")).FullName;
        bool called = false;
        var ex = Assert.Throws<IOException>(() => AtomicFile.Write(target, _ => called = true));
        Assert.That(ex!.Message, Is.EqualTo($"{target} is a folder; give the path of the file to write."));
        Assert.That(called, Is.False, "the content was never produced");
        Assert.That(Directory.GetFiles(folder), Is.Empty, "no temporary file beside it");
        Assert.That(Directory.GetFileSystemEntries(target), Is.Empty, "nothing inside it");
    }

    [Test]
    public void AnAtomicWriteGoesThroughALinkAndRefusesAPipe()
    {
        var file = Path.Combine(folder, "real.onnx");
        File.WriteAllText(file, "old");
        var link = Path.Combine(folder, "link.onnx");
        File.CreateSymbolicLink(link, file);
        AtomicFile.Write(link, stream => stream.WriteByte((byte)'x'));
        Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(file), "the link stays a link");
        Assert.That(File.ReadAllText(file), Is.EqualTo("x"), "the file it leads to is replaced");

        // A link whose target climbs out of a linked folder: written where reading it reads, not where the text says.
        var inner = Directory.CreateDirectory(Path.Combine(folder, "inner")).FullName;
        var outer = Directory.CreateDirectory(Path.Combine(folder, "outer")).FullName;
        File.WriteAllText(Path.Combine(outer, "real"), "old");
        File.CreateSymbolicLink(Path.Combine(inner, "s"), "../outer");
        File.CreateSymbolicLink(Path.Combine(inner, "phys"), "s/../outer/real");
        Assert.That(File.ReadAllText(Path.Combine(inner, "phys")), Is.EqualTo("old"));
        AtomicFile.Write(Path.Combine(inner, "phys"), stream => stream.WriteByte((byte)'y'));
        Assert.That(File.ReadAllText(Path.Combine(outer, "real")), Is.EqualTo("y"));
        Assert.That(Directory.Exists(Path.Combine(inner, "outer")), Is.False, "nothing made where the text alone leads");

        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var pipe = Path.Combine(folder, "pipe");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", pipe))
        {
            mkfifo.WaitForExit();
        }

        var e = Assert.Throws<IOException>(() => AtomicFile.Write(pipe, _ => Assert.Fail("nothing is written")));
        Assert.That(e!.Message, Is.EqualTo($"{pipe} is a device, a pipe or a socket, not a file; give the path of a file to write."));
        Assert.That(new FileInfo(pipe).Length, Is.Zero);
        Assert.That(Directory.GetFiles(folder, ".*"), Is.Empty, "no temporary file");
        var e2 = Assert.Throws<IOException>(() => AtomicFile.Write("/dev/null", _ => Assert.Fail("nothing is written")));
        Assert.That(e2!.Message, Does.Contain("/dev/null is a device"));
    }

    [Test]
    public void AnAtomicWritesLeftoversAreRemovedAndNothingElse()
    {
        var path = Path.Combine(folder, "metrics.csv");
        AtomicFile.Write(path, stream => stream.WriteByte((byte)'x'));

        // A temporary of this file, and files that only look alike: another file's temporary, a visible file.
        string[] files = [".metrics.csv.0123.tmp", "metrics.csv.0123.tmp", ".lstm.saved.4567.tmp", ".metrics.tmp"];
        foreach (var name in files)
        {
            File.WriteAllBytes(Path.Combine(folder, name), []);
        }

        AtomicFile.RemoveLeftovers(path);

        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "metrics.csv", "metrics.csv.0123.tmp", ".lstm.saved.4567.tmp", ".metrics.tmp" }.Order()));
        Assert.That(File.ReadAllText(path), Is.EqualTo("x"));
    }

    [Test]
    public void ACheckpointWithTheOlderOptimizerFileNameStillResumes()
    {
        using var lstm = new Lstm(folder, steps: 2);
        lstm.Save();

        // The layout before pairs: NAME.optimizer.safetensors, and no name in the model file's metadata.
        File.Move(lstm.OptimizerFile, Path.Combine(folder, "lstm.optimizer.safetensors"));
        EditedSafeTensors.EditMetadata(lstm.Path, metadata => Assert.That(metadata.Remove("tensorlet.optimizer_file"), Is.True));
        ModelCheckpoint.RemoveLeftovers(lstm.Path);

        using var adam2 = new Adam(lstm.Model.Parameters, 0.01f);
        ModelCheckpoint.Read(lstm.Path).LoadOptimizerState(lstm.Model, adam2);
        Assert.That(adam2.SaveState().FirstMoment, Is.EqualTo(lstm.Adam.SaveState().FirstMoment));
    }

    [Test]
    public void AnotherRunsOptimizerFileOfTheSameStepIsRefusedAndAdamIsUnchanged()
    {
        using var lstm = new Lstm(folder, steps: 1);
        lstm.Save();
        var named = lstm.OptimizerFile;

        // Another run of the same model at the same step; its optimizer file copied in under the name this model file gives.
        using var other = new Lstm(Path.Combine(folder, "other"), seed: 3, steps: 1);
        other.Save();
        File.Copy(other.OptimizerFile, named, overwrite: true);

        using var adam2 = new Adam(lstm.Model.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(lstm.Path).LoadOptimizerState(lstm.Model, adam2))!;
        var ids = (SafeTensorsFile.Read(named).Metadata["tensorlet.pair_id"], SafeTensorsFile.Read(lstm.Path).Metadata["tensorlet.pair_id"]);
        Assert.That(e.Message, Is.EqualTo($"{named} was not saved with {lstm.Path}: they record different pair ids ({ids.Item1} and {ids.Item2}), so the optimizer state is another checkpoint's; put back the optimizer file saved with this model."));
        Assert.That((adam2.StepCount, adam2.SaveState().SecondMoment.All(v => v == 0f)), Is.EqualTo((0, true)), "Adam is unchanged");
    }

    [Test]
    public void APairSavedBeforePairIdsStillResumesButAHalfOfOneIsRefused()
    {
        using var lstm = new Lstm(folder, steps: 2);
        var path = lstm.Path;
        lstm.Save();
        var named = lstm.OptimizerFile;
        var optimizerId = SafeTensorsFile.Read(named).Metadata["tensorlet.pair_id"];
        static void RemoveId(Dictionary<string, string> metadata) => Assert.That(metadata.Remove("tensorlet.pair_id"), Is.True);

        // A model file from before pair ids beside an optimizer file that records one: not saved together.
        EditedSafeTensors.EditMetadata(path, RemoveId);
        using var adam2 = new Adam(lstm.Model.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(lstm.Model, adam2))!;
        Assert.That(e.Message, Does.StartWith($"{named} was not saved with {path}: they record different pair ids ({optimizerId} and none)"));
        Assert.That(adam2.StepCount, Is.Zero, "Adam is unchanged");

        // Neither records one, as every pair saved before pair ids: matched by step count, as then.
        EditedSafeTensors.EditMetadata(named, RemoveId);
        ModelCheckpoint.Read(path).LoadOptimizerState(lstm.Model, adam2);
        Assert.That(adam2.SaveState().FirstMoment, Is.EqualTo(lstm.Adam.SaveState().FirstMoment));
    }

    [Test]
    public void APairSavedBeforePairIdsWithTheOptimizerOfAnotherStepIsRefused()
    {
        // Without pair ids the step counts are all that binds a pair; Save now refuses to write a mismatched one, so
        // only a file edited (or put in) afterwards reaches this check.
        using var lstm = new Lstm(folder, steps: 2);
        lstm.Save();
        var named = lstm.OptimizerFile;
        EditedSafeTensors.EditMetadata(lstm.Path, metadata => metadata.Remove("tensorlet.pair_id"));
        EditedSafeTensors.EditMetadata(named, metadata =>
        {
            metadata.Remove("tensorlet.pair_id");
            metadata["tensorlet.step"] = "5";
        });

        using var adam2 = new Adam(lstm.Model.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(lstm.Path).LoadOptimizerState(lstm.Model, adam2))!;
        Assert.That(e.Message, Is.EqualTo($"{named} does not belong to {lstm.Path}: it was saved at step 5, the model at step 2."));
        Assert.That(adam2.StepCount, Is.Zero, "Adam is unchanged");
    }

    [TestCase("../lstm.optimizer.x.safetensors")]
    [TestCase("/etc/passwd")]
    [TestCase("ngram.optimizer.x.safetensors")]
    [TestCase("lstm.optimizer.x.json")]
    public void AnOptimizerFileNameOutsideThePairIsRefused(string name)
    {
        using var lstm = new Lstm(folder);
        lstm.Save();
        EditedSafeTensors.EditMetadata(lstm.Path, metadata => metadata["tensorlet.optimizer_file"] = name);

        var ex = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(lstm.Path).LoadOptimizerState(lstm.Model, lstm.Adam));
        Assert.That(ex!.Message, Does.Contain(name).And.Contain("optimizer file"));
    }

    // The n-gram model of n = 2 over `ngrams` (hidden size 4, the given activation) of `seed` on the CPU, saved without
    // optimizer state at `position` (the start when not given) as ngram.safetensors in the folder; the caller disposes
    // the model.
    private (ICharModel Model, CharModelSpec Spec, NgramVocabulary Ngrams, string Path) SaveNgram(string[] ngrams, Activation activation, int seed, TrainingPosition? position = null)
    {
        var vocabulary = NgramVocabulary.FromNgrams(2, ngrams);
        var spec = CharModelSpec.Ngram(2, vocabulary.Count, Characters.Count, 4, activation);
        var model = spec.Create(TestDevices.Get("cpu"), seed);
        var path = Path.Combine(folder, "ngram.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, vocabulary, position ?? new TrainingPosition(0, 0, 0));
        return (model, spec, vocabulary, path);
    }

    private static void TrainSteps(ICharModel model, IOptimizer adam, int steps)
    {
        var device = model.Device;
        int[] ids = [1, 2, 3, 4, 0, 5, 6, 7, 2, 3, 1, 0];
        using var x = device.IndexFromArray(ids.AsSpan(0, 8), 8);
        using var y = device.IndexFromArray(ids.AsSpan(4, 8), 8);
        for (int i = 0; i < steps; i++)
        {
            adam.ZeroGradients();
            model.ForwardLoss(x, y, 2, training: true, step: adam.StepCount + 1);
            model.Backward();
            adam.Step();
        }
    }

    // The tests' LSTM (hidden size 4, one layer, no dropout) of `seed` on the CPU with its Adam, trained `steps` steps,
    // and its checkpoint path, lstm.safetensors in `folder`.
    private sealed class Lstm : IDisposable
    {
        public Lstm(string folder, int seed = 2, int steps = 0)
        {
            Model = Spec.Create(Device, seed);
            Adam = new Adam(Model.Parameters, 0.01f);
            TrainSteps(Model, Adam, steps);
            Path = System.IO.Path.Combine(folder, "lstm.safetensors");
        }

        public Device Device { get; } = TestDevices.Get("cpu");

        public CharModelSpec Spec { get; } = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);

        public ICharModel Model { get; }

        public Adam Adam { get; }

        public string Path { get; }

        // Epoch 0, with a batch and a step for each step Adam has taken.
        public TrainingPosition Position => new(0, Adam.StepCount, Adam.StepCount);

        // The optimizer file of the pair saved at Path.
        public string OptimizerFile => EditedSafeTensors.OptimizerFileOf(Path);

        // Saves the model at Path at its Position, with Adam's state unless told not to.
        public void Save(bool withOptimizer = true) => ModelCheckpoint.Save(Path, Model, Spec, Characters, null, Position, withOptimizer ? Adam : null);

        public void Dispose()
        {
            Adam.Dispose();
            Model.Dispose();
        }
    }
}
