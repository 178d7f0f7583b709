using NUnit.Framework;
using Tensorlet.CommandLine;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

/// <summary>Every kind of bad input gives one "error: ..." line and a non-zero exit code, and harms no saved file.</summary>
public sealed class BadInputTests
{
    [Test]
    public void AnUnknownFlagIsAUsageError()
    {
        AppHarness.Run("train", "--epochz", "3").AssertError(2, "--epochz");
    }

    [Test]
    public void NoCommandIsAUsageError()
    {
        Assert.That(AppHarness.Run().ExitCode, Is.EqualTo(2));
    }

    [TestCase("train", "--lstm-hidden", "-4")]
    [TestCase("train", "--epochs", "0")]
    [TestCase("train", "--batch", "0")]
    [TestCase("train", "--n", "-1")]
    [TestCase("train", "--max-batches", "0")]
    [TestCase("sample", "--checkpoint", "x.safetensors", "--length", "0")]
    [TestCase("compare", "--run", "x", "--temperatures", "0.5,zero")]
    public void ANonPositiveSizeIsAUsageError(params string[] args)
    {
        AppHarness.Run(args).AssertError(2, "must be positive");
    }

    [TestCase("train", "--epochs", "abc", "--epochs takes a whole number")]
    [TestCase("train", "--batch", "1.5", "--batch takes a whole number")]
    [TestCase("train", "--epochs", "1e3", "--epochs takes a whole number")]
    [TestCase("train", "--lr", "abc", "--lr takes a number")]
    [TestCase("train", "--lr", "NaN", "--lr must be a finite number")]
    [TestCase("train", "--lr", "Infinity", "--lr must be a finite number")]
    [TestCase("train", "--lstm-dropout", "NaN", "--lstm-dropout must be a finite number")]
    [TestCase("train", "--clip-norm", "NaN", "--clip-norm must be a finite number")]
    [TestCase("train", "--validation-fraction", "-Infinity", "--validation-fraction must be a finite number")]
    [TestCase("train", "--lr", "1e99", "--lr is out of range: '1e99' is too large for a float")]
    [TestCase("train", "--lr", "-1e99", "--lr is out of range: '-1e99' is too large in magnitude for a float")]
    [TestCase("train", "--lr", "1e-99", "--lr must be positive; '1e-99' is too small for a float and rounds to 0")]
    [TestCase("train", "--lr", "-1e-99", "--lr must be positive; got -1e-99.")]
    [TestCase("train", "--lstm-dropout", "1e99", "--lstm-dropout is out of range: '1e99' is too large for a float (at most ±3.4028235E+38); it must be in [0, 1)")]
    [TestCase("train", "--clip-norm", "1e400", "--clip-norm is out of range: '1e400' is too large for a double")]
    [TestCase("train", "--epochs", "99999999999", "--epochs must be positive and at most 1000000; got 99999999999")]
    [TestCase("train", "--seed", "-99999999999", "--seed must be in [-2147483648, 2147483647]; got -99999999999")]
    [TestCase("train", "--lstm-hidden", "100000000", "--lstm-hidden must be positive and at most 16384")]
    [TestCase("train", "--text", "t.txt", "--model", "lstm", "--lstm-hidden", "16384", "--lstm-hidden 16384 with --lstm-layers 2 makes an LSTM of at least")]
    [TestCase("train", "--text", "t.txt", "--cell", "gru", "--lstm-hidden", "8000", "--lstm-hidden 8000 with --lstm-layers 2 makes a GRU of at least")]
    [TestCase("train", "--text", "t.txt", "--schedule", "warmup-cosine", "--warmup-steps", "6", "--epochs", "3", "--max-batches", "2", "--warmup-steps 6 leaves no batch to anneal: the run has at most 6 batches")]
    [TestCase("train", "--lstm-layers", "100000000", "--lstm-layers must be positive and at most 64")]
    [TestCase("train", "--batch", "100000000", "--batch must be positive and at most 1000000")]
    [TestCase("train", "--n", "150", "--n must be positive and at most 99")]
    [TestCase("train", "--ngram-windows", "ten", "--ngram-windows takes a whole number")]
    [TestCase("train", "--seed", "abc", "--seed takes a whole number")]
    [TestCase("data", "--n", "1000", "--n must be positive and at most 99")]
    [TestCase("sample", "--checkpoint", "x.safetensors", "--length", "abc", "--length takes a whole number")]
    [TestCase("sample", "--checkpoint", "x.safetensors", "--length", "2000000000", "--length must be positive and at most 10000000")]
    [TestCase("sample", "--checkpoint", "x.safetensors", "--temperature", "abc", "--temperature takes a number")]
    [TestCase("sample", "--checkpoint", "x.safetensors", "--temperature", "NaN", "--temperature must be a finite number")]
    [TestCase("sample", "--checkpoint", "x.safetensors", "--temperature", "-1", "--temperature must be zero or more")]
    [TestCase("sample", "--checkpoint", "x.safetensors", "--top-k", "-1", "--top-k must be zero or more")]
    [TestCase("train", "--lstm-hidden", "--epochs", "1", "--lstm-hidden needs a value")]
    [TestCase("train", "--model", "gru", "Argument 'gru' not recognized")]
    [TestCase("train", "--schedule", "onecycle", "Argument 'onecycle' not recognized")]
    [TestCase("train", "--ngram-activation", "swish", "Argument 'swish' not recognized")]
    [TestCase("train", "--text", "t.txt", "--schedule", "onecycle", "--warmup-steps", "5", "Argument 'onecycle' not recognized")]
    public void AnUnparsableOrOutOfRangeNumberIsOneUsageErrorLine(params string[] argsAndFragment)
    {
        AppHarness.Run(argsAndFragment[..^1]).AssertError(2, argsAndFragment[^1]);
    }

    [Test]
    public void AnUnknownCommandIsNamed()
    {
        AppHarness.Run("frobnicate").AssertError(2, "unknown command 'frobnicate'");
    }

    [Test]
    public void AnUnknownDeviceIsOneErrorLine()
    {
        AppHarness.Run(["train", "--device", "tpu", .. AppHarness.DataArgs]).AssertError(1, "Unknown device 'tpu'");
    }

    [Test]
    public void CudaWithoutAGpuIsOneErrorLine()
    {
        if (Device.IsCudaAvailable)
        {
            Assert.Ignore("This machine has a CUDA GPU.");
        }

        AppHarness.Run(["train", "--device", "cuda", .. AppHarness.DataArgs]).AssertError(1, "'cuda' is not available");
    }

    [Test]
    public void AMissingCheckpointIsOneErrorLine()
    {
        AppHarness.Run("sample", "--checkpoint", "/nonexistent/lstm.safetensors", "--device", "cpu").AssertError(1, "does not exist");
    }

    [Test]
    public void ARunFolderGivenAsTheCheckpointIsOneErrorLine()
    {
        var folder = AppHarness.TempFolder();
        try
        {
            AppHarness.Run("sample", "--checkpoint", folder, "--device", "cpu").AssertError(1, $"{folder} is a folder, not a safetensors file.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ATruncatedCheckpointIsOneErrorLine()
    {
        var folder = AppHarness.TempFolder();
        var bytes = File.ReadAllBytes(Path.Combine(AppHarness.SharedRun, "lstm.safetensors"));
        var truncated = Path.Combine(folder, "lstm.safetensors");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        AppHarness.Run("eval", "--checkpoint", truncated, "--text", "the cat", "--device", "cpu").AssertError(1, truncated);
        Directory.Delete(folder, true);
    }

    [Test]
    public void ACheckpointOfTheOtherModelIsOneErrorLine()
    {
        var run = CopyOfSharedRun();
        File.Copy(Path.Combine(run, "lstm.safetensors"), Path.Combine(run, "ngram.safetensors"), overwrite: true);

        AppHarness.Run("compare", "--run", run, "--device", "cpu").AssertError(1, "holds an LSTM model, not an n-gram model");
        Directory.Delete(run, true);
    }

    [Test]
    public void ResumingOnDataWithADifferentVocabularyIsOneErrorLineAndKeepsTheCheckpoint()
    {
        var run = CopyOfSharedRun();
        var config = Path.Combine(run, "config.json");
        // 20 sequences have fewer distinct characters than the 300 the run was trained on.
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"max_sequences\": 300", "\"max_sequences\": 20", StringComparison.Ordinal));
        var checkpoint = Path.Combine(run, "ngram.safetensors");
        var before = File.ReadAllBytes(checkpoint);

        AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu").AssertError(1, "different vocabulary");
        Assert.That(File.ReadAllBytes(checkpoint), Is.EqualTo(before), "the checkpoint is untouched");
        Directory.Delete(run, true);
    }

    [Test]
    public void AStartTextOutsideTheVocabularyIsOneErrorLine()
    {
        AppHarness.Run("sample", "--checkpoint", Path.Combine(AppHarness.SharedRun, "lstm.safetensors"), "--start", "Hello", "--device", "cpu")
            .AssertError(1, "'H'");
    }

    [Test]
    public void AnIdOutsideTheVocabularyIsOneLineThatNamesIt()
    {
        // The library's refusal, on one line, is what the app prints after "error: ".
        var vocabulary = CharVocabulary.FromTexts(["abc"]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, 9]))!;
        Assert.That(error.Message, Does.Not.Contain('\n'));
        Assert.That(OptionParsing.ErrorLine(error), Is.EqualTo("Index 9 at position 1 is outside the vocabulary of 3 characters [0, 3)."));
    }

    [Test]
    public void AStartTextShorterThanNIsOneErrorLine()
    {
        AppHarness.Run("sample", "--checkpoint", Path.Combine(AppHarness.SharedRun, "ngram.safetensors"), "--start", "a", "--device", "cpu")
            .AssertError(1, "at least n = 3");
    }

    [Test]
    public void ChangingAFixedSettingOnResumeIsOneErrorLine()
    {
        AppHarness.Run("train", "--resume", AppHarness.SharedRun, "--lr", "0.1").AssertError(1, "--lr cannot change when resuming");
    }

    [Test]
    public void ResumingWithACheckpointOfAnotherSizeIsOneErrorLineAndKeepsTheCheckpoint()
    {
        var run = CopyOfSharedRun();
        var path = Path.Combine(run, "lstm.safetensors");
        var trained = ModelCheckpoint.Read(path);
        var other = trained.Spec with { HiddenSize = trained.Spec.HiddenSize * 2 };
        using (var model = other.Create(TestDevices.Get("cpu"), seed: 3))
        {
            ModelCheckpoint.Save(path, model, other, trained.Vocabulary, null, new TrainingPosition(1, 0, 3));
        }

        var before = File.ReadAllBytes(path);
        var ngram = File.ReadAllBytes(Path.Combine(run, "ngram.safetensors"));

        AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu")
            .AssertError(1, $"holds LSTM 2x{other.HiddenSize}, dropout 0.2, but the run's config.json describes LSTM 2x{trained.Spec.HiddenSize}");
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before), "the checkpoint is untouched");
        Assert.That(File.ReadAllBytes(Path.Combine(run, "ngram.safetensors")), Is.EqualTo(ngram), "refused before the n-gram model, which comes first, trained an epoch");
        Directory.Delete(run, true);
    }

    [Test]
    public void ResumingFromTheBestCheckpointCopiedOverTheLastIsRefusedBeforeAnyModelTrains()
    {
        // The best model has no optimizer state; the n-gram model, which trains first, must not train an epoch before
        // the LSTM's checkpoint is refused, and the LSTM's optimizer file must survive.
        var run = CopyOfSharedRun();
        var path = Path.Combine(run, "lstm.safetensors");
        File.Copy(Path.Combine(run, "lstm.best.safetensors"), path, overwrite: true);
        var optimizer = Directory.GetFiles(run, "lstm.optimizer.*.safetensors").Single();
        var ngram = File.ReadAllBytes(Path.Combine(run, "ngram.safetensors"));

        AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu").AssertError(1, "holds no optimizer state");
        Assert.That(File.ReadAllBytes(Path.Combine(run, "ngram.safetensors")), Is.EqualTo(ngram));
        Assert.That(File.Exists(optimizer), Is.True);
        Directory.Delete(run, true);
    }

    [Test]
    public void ResumingARunThatAnotherTrainHoldsIsOneErrorLineAndTouchesNothing()
    {
        // Before, the second train removed the first one's temporary optimizer file as a killed run's leftover.
        var run = CopyOfSharedRun();
        var before = Directory.GetFiles(run).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        using (new FileStream(Path.Combine(run, ".train.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu").AssertError(1, $"{run} is in use by another 'train'");
        }

        Assert.That(Directory.GetFiles(run).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes), Is.EqualTo(before));
        var resumed = AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu");
        Assert.That(resumed.ExitCode, Is.EqualTo(0), "once the other one has let go");
        Directory.Delete(run, true);
    }

    [Test]
    public void OptionsThatAResumedRunOrATextCannotUseAreRefused()
    {
        AppHarness.Run("train", "--resume", AppHarness.SharedRun, "--runs-dir", "elsewhere").AssertError(1, "--runs-dir does not go with --resume");
        AppHarness.Run("train", "--resume", AppHarness.SharedRun, "--max-sequences", "5").AssertError(1, "--max-sequences cannot change when resuming");
        AppHarness.Run("train", "--text", "/usr/share/common-licenses/GPL-3", "--model", "ngram", "--ngram-windows", "5")
            .AssertError(2, "--ngram-windows does not go with --text");
    }

    [Test]
    public void ResumingAFolderThatIsNotARunIsOneErrorLine()
    {
        AppHarness.Run("train", "--resume", "/nonexistent/run").AssertError(1, "config.json does not exist");
    }

    [Test]
    public void ADivergingRunStopsWithOneErrorLine()
    {
        var runs = AppHarness.TempFolder();

        var result = AppHarness.Run(["train", "--model", "ngram", "--lr", "1e30", "--epochs", "1", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);

        result.AssertError(1, "the loss became");
        Directory.Delete(runs, true);
    }

    internal static string CopyOfSharedRun()
    {
        var copy = AppHarness.TempFolder();
        foreach (var file in Directory.GetFiles(AppHarness.SharedRun))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        return copy;
    }
}
