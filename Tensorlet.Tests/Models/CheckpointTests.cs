using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
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

    [TestCase(ModelKind.Lstm)]
    [TestCase(ModelKind.Gru)]
    public void ARecurrentModelIsRebuiltWithAnotherDropoutAndTheSameWeights(ModelKind kind)
    {
        var device = TestDevices.Get("cpu");
        var spec = kind == ModelKind.Gru ? CharModelSpec.Gru(Characters.Count, 5, 2, 0.5f) : CharModelSpec.Lstm(Characters.Count, 5, 2, 0.5f);
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
        var device = TestDevices.Get("cpu");
        var ngrams = NgramVocabulary.FromNgrams(2, ["ab", "ba"]);
        var spec = CharModelSpec.Ngram(2, ngrams.Count, Characters.Count, 4, Activation.Relu);
        using var model = spec.Create(device, seed: 1);
        var path = Path.Combine(folder, "ngram.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, ngrams, new TrainingPosition(0, 0, 0));

        var error = Assert.Throws<InvalidOperationException>(() => ModelCheckpoint.Read(path).CreateModel(device, dropout: 0.2f))!;

        Assert.That(error.Message, Does.Contain("n-gram model"));
    }

    [Test]
    public void NgramCheckpointKeepsTheNgramVocabulary()
    {
        var device = TestDevices.Get("cpu");
        var ngrams = NgramVocabulary.FromNgrams(2, ["ab", "ba", "g "]);
        var spec = CharModelSpec.Ngram(2, ngrams.Count, Characters.Count, 4, Activation.Sigmoid);
        using var model = spec.Create(device, seed: 1);
        var path = Path.Combine(folder, "ngram.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, ngrams, new TrainingPosition(0, 0, 0));
        var checkpoint = ModelCheckpoint.Read(path);
        Assert.That(checkpoint.Ngrams!.Ngrams, Is.EqualTo(ngrams.Ngrams));
        Assert.That(checkpoint.Spec.Activation, Is.EqualTo(Activation.Sigmoid));
        Assert.That(SafeTensorsFile.Read(path).Tensors.Keys, Is.EquivalentTo(new[] { "L1.weight", "L1.bias", "L2.weight", "L2.bias" }));
    }

    [Test]
    public void WrongModelDifferentVocabularyAndTruncationGetClearErrors()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 1);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0));

        var wrongKind = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path, ModelKind.Ngram));
        Assert.That(wrongKind!.Message, Does.Contain(path).And.Contain("LSTM").And.Contain("n-gram"));

        var other = CharVocabulary.FromTexts(["abcdefgxy\n"]);
        var vocabulary = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).EnsureVocabulary(other));
        Assert.That(
            vocabulary!.Message,
            Is.EqualTo($"{path} was trained on a different vocabulary (8 characters) from the data's (10): the data has U+000A, 'x', 'y' that the checkpoint lacks; the checkpoint has ' ' that the data lacks."),
            "one line, whatever the characters");

        var noOptimizer = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(model, new Adam(model.Parameters)));
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
        var device = TestDevices.Get("cpu");
        var ngrams = NgramVocabulary.FromNgrams(2, ["ab", "ba", "g "]);
        var spec = CharModelSpec.Ngram(2, ngrams.Count, Characters.Count, 4, Activation.Tanh);
        using var model = spec.Create(device, seed: 3);
        var path = Path.Combine(folder, "ngram.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, ngrams, new TrainingPosition(1, 2, 3));

        // Rewrite the spec as the code before the key renames wrote it, keeping everything else.
        var file = SafeTensorsFile.Read(path);
        var metadata = file.Metadata.ToDictionary();
        metadata["tensorlet.spec"] =
            $$"""{"kind":"ngram","vocabulary_size":{{Characters.Count}},"hidden_size":4,"layers":1,"dropout":0,"n":2,"ngram_vocabulary_size":{{ngrams.Count}},"activation":"tanh"}""";
        var older = Path.Combine(folder, "older.safetensors");
        SafeTensorsFile.Write(older, file.Tensors.Values, metadata);

        var checkpoint = ModelCheckpoint.Read(older, ModelKind.Ngram);
        Assert.That(checkpoint.Spec, Is.EqualTo(spec));
        using var loaded = checkpoint.CreateModel(device);
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
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        var path = Path.Combine(folder, "lstm.safetensors");
        TrainSteps(model, adam, 1);
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 1, 1), adam);
        var first = Directory.GetFiles(folder, "lstm.optimizer.*.safetensors").Single();
        TrainSteps(model, adam, 1);
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 2, 2), adam);

        // The new pair has a new optimizer file, named by the model file; the old one is gone once the model file is replaced.
        var second = Directory.GetFiles(folder, "lstm.optimizer.*.safetensors").Single();
        Assert.That(second, Is.Not.EqualTo(first));
        Assert.That(SafeTensorsFile.Read(path).Metadata["tensorlet.optimizer_file"], Is.EqualTo(Path.GetFileName(second)));
        using var adam2 = new Adam(model.Parameters, 0.01f);
        ModelCheckpoint.Read(path).LoadOptimizerState(model, adam2);
        Assert.That(adam2.SaveState().SecondMoment, Is.EqualTo(adam.SaveState().SecondMoment));

        // Saving without an optimizer drops the optimizer file: it would belong to another step.
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 2, 2));
        Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { path }));
        ModelCheckpoint.Delete(path);
        Assert.That(Directory.GetFiles(folder), Is.Empty);
    }

    [Test]
    public void LeftoversOfAKilledSaveAreRemovedAndThePairIsKept()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0), adam);
        var named = Directory.GetFiles(folder, "lstm.optimizer.*.safetensors").Single();

        // What a kill leaves at each step: a 0-byte temporary of either file, or a complete optimizer file the model
        // file does not name yet. Files of another model in the folder are not touched.
        string[] leftovers = [".lstm.safetensors.0123.tmp", ".lstm.optimizer.feed.safetensors.4567.tmp", "lstm.optimizer.feed.safetensors"];
        foreach (var name in leftovers)
        {
            File.WriteAllBytes(Path.Combine(folder, name), []);
        }

        File.Copy(named, Path.Combine(folder, "ngram.optimizer.beef.safetensors"));
        ModelCheckpoint.RemoveLeftovers(path);
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "lstm.safetensors", Path.GetFileName(named), "ngram.optimizer.beef.safetensors" }.Order()));
        using var adam2 = new Adam(model.Parameters, 0.01f);
        Assert.DoesNotThrow(() => ModelCheckpoint.Read(path).LoadOptimizerState(model, adam2));
    }

    [TestCase(float.NaN)]
    [TestCase(float.NegativeInfinity)]
    public void AWeightThatIsNotFiniteIsRefusedOnLoad(float value)
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
        var file = SafeTensorsFile.Read(path);
        var tensors = file.Tensors.Values.Select(t => t.Name == "output.bias" ? new SafeTensor(t.Name, [.. t.Shape], [.. t.Data.Select((v, i) => i == 3 ? value : v)]) : t);
        SafeTensorsFile.Write(path, tensors, file.Metadata);

        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).CreateModel(device));
        Assert.That(e!.Message, Is.EqualTo($"{path}: tensor 'output.bias' holds a non-finite value ({value}) at element 3; the file is damaged."));
    }

    [Test]
    public void AnIntegerWeightOrOptimizerStateIsRefusedOnLoad()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        TrainSteps(model, adam, 1);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 1, 1), adam);
        var optimizerFile = Directory.GetFiles(folder, "lstm.optimizer.*.safetensors").Single();

        // The optimizer state: the model loads, the state does not, and Adam keeps its own.
        RetypedSafeTensors.Retype(optimizerFile, "exp_avg_sq.output.bias", "I64");
        using var loaded = ModelCheckpoint.Read(path).CreateModel(device);
        using var adam2 = new Adam(loaded.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(loaded, adam2))!;
        Assert.That(e.Message, Is.EqualTo($"{optimizerFile}: tensor 'exp_avg_sq.output.bias' is I64, an integer dtype, which cannot hold Adam's state: only F32, F64, F16 and BF16 tensors are read as float32."));
        Assert.That((adam2.StepCount, adam2.SaveState().SecondMoment.All(v => v == 0f)), Is.EqualTo((0, true)), "Adam is unchanged");

        RetypedSafeTensors.Retype(path, "output.weight", "BOOL");
        e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).CreateModel(device))!;
        Assert.That(e.Message, Is.EqualTo($"{path}: tensor 'output.weight' is BOOL, a bool dtype, which cannot hold the model's weights: only F32, F64, F16 and BF16 tensors are read as float32."));
    }

    [Test]
    public void ATrainingPositionPastInt32StepsRoundTrips()
    {
        // Before, Save wrote the long step and Read parsed it as an int: "malformed number in its metadata: '3000000000'".
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        var path = Path.Combine(folder, "lstm.safetensors");
        var position = new TrainingPosition(3, 0, 3_000_000_000L);
        ModelCheckpoint.Save(path, model, spec, Characters, null, position);
        Assert.That(ModelCheckpoint.Read(path).Position, Is.EqualTo(position));
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(int.MaxValue, int.MaxValue, long.MaxValue));
        Assert.That(ModelCheckpoint.Read(path).Position, Is.EqualTo(new TrainingPosition(int.MaxValue, int.MaxValue, long.MaxValue)));
    }

    [TestCase(-4, -1, -9L)]
    [TestCase(-1, 0, 0L)]
    [TestCase(0, -1, 0L)]
    [TestCase(0, 0, -1L)]
    public void ANegativeTrainingPositionIsNeitherSavedNorRead(int epoch, int batch, long step)
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        var path = Path.Combine(folder, "lstm.safetensors");
        var bad = new TrainingPosition(epoch, batch, step);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelCheckpoint.Save(path, model, spec, Characters, null, bad, adam))!;
        Assert.That(e.Message, Does.StartWith($"A training position counts from 0; got epoch {epoch}, batch {batch}, step {step}."));
        Assert.That(e.ParamName, Is.EqualTo("position"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "nothing written");

        // Written by other means: Read refuses it, naming the first negative count.
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
        var file = SafeTensorsFile.Read(path);
        var metadata = file.Metadata.ToDictionary();
        metadata["tensorlet.epoch"] = epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);
        metadata["tensorlet.batch_in_epoch"] = batch.ToString(System.Globalization.CultureInfo.InvariantCulture);
        metadata["tensorlet.step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        SafeTensorsFile.Write(path, file.Tensors.Values, metadata);
        var (key, text) = epoch < 0 ? ("tensorlet.epoch", $"{epoch}") : batch < 0 ? ("tensorlet.batch_in_epoch", $"{batch}") : ("tensorlet.step", $"{step}");
        var read = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path))!;
        Assert.That(read.Message, Is.EqualTo($"{path} has a negative training position in its metadata: {key} is '{text}'; the file is damaged."));
    }

    [TestCase(0L)]
    [TestCase(2L)]
    public void AnOptimizerOfAnotherStepThanThePositionIsRefusedAtSaveAndNothingIsWritten(long step)
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        TrainSteps(model, adam, 1);
        var path = Path.Combine(folder, "lstm.safetensors");

        var e = Assert.Throws<ArgumentException>(() => ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 1, step), adam))!;

        Assert.That(e.Message, Does.StartWith($"The optimizer has taken 1 steps but the training position is at step {step}; a checkpoint holds both at one step, so resuming would refuse this one."));
        Assert.That(e.ParamName, Is.EqualTo("optimizer"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "nothing written");
    }

    [TestCase("tensorlet.epoch", "3000000000")]
    [TestCase("tensorlet.batch_in_epoch", "1.5")]
    [TestCase("tensorlet.step", "9223372036854775808")]
    [TestCase("tensorlet.step", "x")]
    public void AMalformedTrainingPositionIsRefused(string key, string text)
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
        var file = SafeTensorsFile.Read(path);
        SafeTensorsFile.Write(path, file.Tensors.Values, new Dictionary<string, string>(file.Metadata) { [key] = text });
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path))!;
        Assert.That(e.Message, Is.EqualTo($"{path} has a malformed number in its metadata: {key} is '{text}'."));
    }

    [Test]
    public void AModelFileThatNamesNoOptimizerFileHereCostsNoOptimizerState()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0), adam);
        var named = Directory.GetFiles(folder, "lstm.optimizer.*.safetensors").Single();
        var kept = File.ReadAllBytes(named);

        // Copied in by hand over the checkpoint: a model saved without optimizer state (as the best one is), then one
        // that names another run's optimizer file.
        var other = Path.Combine(folder, "other", "lstm.safetensors");
        ModelCheckpoint.Save(other, model, spec, Characters, null, new TrainingPosition(0, 0, 0));
        File.Copy(other, path, overwrite: true);
        ModelCheckpoint.RemoveLeftovers(path);
        Assert.That(File.ReadAllBytes(named), Is.EqualTo(kept), "a model file with no optimizer file named");
        ModelCheckpoint.Save(other, model, spec, Characters, null, new TrainingPosition(0, 0, 0), adam);
        File.Copy(other, path, overwrite: true);
        ModelCheckpoint.RemoveLeftovers(path);
        Assert.That(File.ReadAllBytes(named), Is.EqualTo(kept), "a model file naming an optimizer file that is not here");
        using var adam2 = new Adam(model.Parameters, 0.01f);
        Assert.That(
            Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(model, adam2))!.Message,
            Does.Contain("as its optimizer state, which is not beside it"));
    }

    [Test]
    public void ASaveAndADeleteRemoveTheirModelsLeftoversAndNothingElse()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        var path = Path.Combine(folder, "lstm.safetensors");

        // A killed save's temporaries of the model and of its optimizer file, and files a save must leave alone: another
        // model's optimizer file and a file that only starts like an optimizer file.
        string[] leftovers = [".lstm.safetensors.0123.tmp", ".lstm.optimizer.feed.safetensors.4567.tmp"];
        string[] others = ["ngram.optimizer.beef.safetensors", "lstm.optimizers-notes.safetensors"];
        foreach (var name in leftovers.Concat(others))
        {
            File.WriteAllBytes(Path.Combine(folder, name), []);
        }

        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0), adam);

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
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        TrainSteps(model, adam, 2);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 2, 2), adam);

        // The layout before pairs: NAME.optimizer.safetensors, and no name in the model file's metadata.
        var file = SafeTensorsFile.Read(path);
        var metadata = file.Metadata.ToDictionary();
        File.Move(Path.Combine(folder, metadata["tensorlet.optimizer_file"]), Path.Combine(folder, "lstm.optimizer.safetensors"));
        metadata.Remove("tensorlet.optimizer_file");
        SafeTensorsFile.Write(path, file.Tensors.Values, metadata);
        ModelCheckpoint.RemoveLeftovers(path);

        using var adam2 = new Adam(model.Parameters, 0.01f);
        ModelCheckpoint.Read(path).LoadOptimizerState(model, adam2);
        Assert.That(adam2.SaveState().FirstMoment, Is.EqualTo(adam.SaveState().FirstMoment));
    }

    [Test]
    public void AnotherRunsOptimizerFileOfTheSameStepIsRefusedAndAdamIsUnchanged()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        TrainSteps(model, adam, 1);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 1, 1), adam);
        var named = Directory.GetFiles(folder, "lstm.optimizer.*.safetensors").Single();

        // Another run of the same model at the same step; its optimizer file copied in under the name this model file gives.
        using var otherModel = spec.Create(device, seed: 3);
        using var otherAdam = new Adam(otherModel.Parameters, 0.01f);
        TrainSteps(otherModel, otherAdam, 1);
        var other = Path.Combine(folder, "other", "lstm.safetensors");
        ModelCheckpoint.Save(other, otherModel, spec, Characters, null, new TrainingPosition(0, 1, 1), otherAdam);
        File.Copy(Directory.GetFiles(Path.GetDirectoryName(other)!, "lstm.optimizer.*.safetensors").Single(), named, overwrite: true);

        using var adam2 = new Adam(model.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(model, adam2))!;
        var ids = (SafeTensorsFile.Read(named).Metadata["tensorlet.pair_id"], SafeTensorsFile.Read(path).Metadata["tensorlet.pair_id"]);
        Assert.That(e.Message, Is.EqualTo($"{named} was not saved with {path}: they record different pair ids ({ids.Item1} and {ids.Item2}), so the optimizer state is another checkpoint's; put back the optimizer file saved with this model."));
        Assert.That((adam2.StepCount, adam2.SaveState().SecondMoment.All(v => v == 0f)), Is.EqualTo((0, true)), "Adam is unchanged");
    }

    [Test]
    public void APairSavedBeforePairIdsStillResumesButAHalfOfOneIsRefused()
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        TrainSteps(model, adam, 2);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 2, 2), adam);
        var named = Directory.GetFiles(folder, "lstm.optimizer.*.safetensors").Single();
        var modelFile = SafeTensorsFile.Read(path);
        var optimizerFile = SafeTensorsFile.Read(named);
        static Dictionary<string, string> WithoutId(SafeTensorsFile file)
        {
            var metadata = file.Metadata.ToDictionary();
            Assert.That(metadata.Remove("tensorlet.pair_id"), Is.True);
            return metadata;
        }

        // A model file from before pair ids beside an optimizer file that records one: not saved together.
        SafeTensorsFile.Write(path, modelFile.Tensors.Values, WithoutId(modelFile));
        using var adam2 = new Adam(model.Parameters, 0.01f);
        var e = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(model, adam2))!;
        Assert.That(e.Message, Does.StartWith($"{named} was not saved with {path}: they record different pair ids ({optimizerFile.Metadata["tensorlet.pair_id"]} and none)"));
        Assert.That(adam2.StepCount, Is.Zero, "Adam is unchanged");

        // Neither records one, as every pair saved before pair ids: matched by step count, as then.
        SafeTensorsFile.Write(named, optimizerFile.Tensors.Values, WithoutId(optimizerFile));
        ModelCheckpoint.Read(path).LoadOptimizerState(model, adam2);
        Assert.That(adam2.SaveState().FirstMoment, Is.EqualTo(adam.SaveState().FirstMoment));
    }

    [TestCase("../lstm.optimizer.x.safetensors")]
    [TestCase("/etc/passwd")]
    [TestCase("ngram.optimizer.x.safetensors")]
    [TestCase("lstm.optimizer.x.json")]
    public void AnOptimizerFileNameOutsideThePairIsRefused(string name)
    {
        var device = TestDevices.Get("cpu");
        var spec = CharModelSpec.Lstm(Characters.Count, 4, 1, 0f);
        using var model = spec.Create(device, seed: 2);
        using var adam = new Adam(model.Parameters, 0.01f);
        var path = Path.Combine(folder, "lstm.safetensors");
        ModelCheckpoint.Save(path, model, spec, Characters, null, new TrainingPosition(0, 0, 0), adam);
        var file = SafeTensorsFile.Read(path);
        var metadata = file.Metadata.ToDictionary();
        metadata["tensorlet.optimizer_file"] = name;
        SafeTensorsFile.Write(path, file.Tensors.Values, metadata);

        var ex = Assert.Throws<CheckpointException>(() => ModelCheckpoint.Read(path).LoadOptimizerState(model, adam));
        Assert.That(ex!.Message, Does.Contain(name).And.Contain("optimizer file"));
    }

    private static void TrainSteps(ICharModel model, Adam adam, int steps)
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
}
