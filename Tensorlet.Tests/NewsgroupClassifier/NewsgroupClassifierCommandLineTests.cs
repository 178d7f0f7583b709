using NUnit.Framework;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.NewsgroupClassifier;

/// <summary>
/// samples/NewsgroupClassifier's command line: a bad option is one "error: ... (see --help)" line and exit code 2, given
/// when the command line is parsed, before the corpus is read; a run that fails after that (no corpus, no such device, a
/// loss that is no longer finite) is one "error: ..." line and exit code 1, as in CharPredict.
/// </summary>
public sealed class NewsgroupClassifierCommandLineTests
{
    // A folder with no corpus: an option that got past the parser would fail there, with another message.
    private static readonly string NoCorpus = Path.Combine(Path.GetTempPath(), "tensorlet-no-such-corpus");

    [TestCase("NaN")]
    [TestCase("Infinity")]
    [TestCase("-Infinity")]
    public void ANonFiniteLearningRateIsAUsageError(string value)
    {
        var result = NewsgroupClassifierApp.Run(["--lr", value, "--data", NoCorpus]);

        result.AssertOneLineError(2, "--lr must be a finite number");
        Assert.That(result.Stderr, Does.EndWith("(see --help)\n"));
    }

    [TestCase("--epochs", "abc", "--epochs takes a whole number; got 'abc'")]
    [TestCase("--hidden", "1e3", "--hidden takes a whole number; got '1e3'")]
    [TestCase("--batch", "1.5", "--batch takes a whole number; got '1.5'")]
    [TestCase("--epochs", "99999999999", "--epochs must be positive; got 99999999999")]
    [TestCase("--embedding", "-3", "--embedding must be positive; got -3")]
    [TestCase("--max-chars", "0", "--max-chars must be positive")]
    [TestCase("--lr", "abc", "--lr takes a number; got 'abc'")]
    [TestCase("--lr", "1e99", "--lr is out of range: '1e99' is too large for a float")]
    [TestCase("--lr", "1e-99", "--lr must be positive; '1e-99' is too small for a float and rounds to 0")]
    [TestCase("--limit", "NaN", "--limit takes a whole number; got 'NaN'")]
    [TestCase("--limit", "0", "--limit must be positive; got 0")]
    [TestCase("--seed", "abc", "--seed takes a whole number; got 'abc'")]
    [TestCase("--seed", "2147483648", "--seed must be in [-2147483648, 2147483647]; got 2147483648")]
    [TestCase("--epochs", "--hidden", "--epochs needs a value; got the flag '--hidden'")]
    public void ABadlyTypedNumberIsAUsageError(string option, string value, string message)
    {
        var result = NewsgroupClassifierApp.Run([option, value, "--data", NoCorpus]);

        result.AssertOneLineError(2, message);
        Assert.That(result.Stderr, Does.EndWith("(see --help)\n"));
    }

    // 150,000 is more than the longest cleaned post (148,970 characters); 10^9 characters of each post overflowed an int.
    [TestCase("150001")]
    [TestCase("1000000000")]
    public void AWindowLongerThanAnyPostIsAUsageError(string maxChars)
    {
        var result = NewsgroupClassifierApp.Run(["--max-chars", maxChars, "--limit", "3", "--epochs", "1", "--data", NoCorpus]);

        result.AssertOneLineError(2, $"--max-chars must be positive and at most 150000; got {maxChars}.");
    }

    // The weights' size depends on no corpus: refused by the parser, before the corpus is looked for.
    [TestCase(new[] { "--model", "lstm", "--hidden", "2000000000" }, "The LSTM's weights for --hidden 2000000000 and --embedding 32 are 16,000,000,000,000,000,000 values", "--hidden")]
    [TestCase(new[] { "--model", "lstm", "--embedding", "40000000" }, "The LSTM's weights for --hidden 128 and --embedding 40000000 are 20,480,000,000 values", "--hidden")]
    [TestCase(new[] { "--model", "lstm", "--hidden", "8", "--embedding", "40000000" }, "The embedding's weights for --embedding 40000000 are 2,440,000,000 values", "--hidden")]
    [TestCase(new[] { "--model", "lstm", "--hidden", "16384", "--embedding", "16384" }, "The model's parameters for --hidden 16384 and --embedding 16384, which share one buffer, are 2,148,9", "--hidden")]
    [TestCase(new[] { "--channels", "30000" }, "The convolutions' weights for --channels 30000 and --embedding 32 are 4,500,000,000 values", "--channels")]
    [TestCase(new[] { "--channels", "8", "--embedding", "40000000" }, "The convolutions' weights for --channels 8 and --embedding 40000000 are 2,240,000,000 values", "--channels")]
    [TestCase(new[] { "--model", "cnn", "--channels", "1", "--embedding", "40000000" }, "The embedding's weights for --embedding 40000000 are 2,440,000,000 values", "--channels")]
    [TestCase(new[] { "--channels", "20000", "--embedding", "1100" }, "The model's parameters for --channels 20000 and --embedding 1100, which share one buffer, are 2,154,507,120 values", "--channels")]
    public void WeightsLargerThanATensorHoldsAreAUsageError(string[] sizes, string message, string width)
    {
        var result = NewsgroupClassifierApp.Run(["--data", NoCorpus, .. sizes]);

        result.AssertOneLineError(2, message);
        Assert.That(result.Stderr, Does.EndWith($"one tensor holds at most 2,147,483,591. Use a smaller {width} or --embedding. (see --help)\n"));
    }

    // Each model has its own width: the other's is refused, as CharPredict refuses a parameter of another schedule,
    // whether the model is named or the default (cnn).
    [TestCase(new[] { "--hidden", "64" }, "--hidden is a parameter of --model lstm; this run's model is cnn.")]
    [TestCase(new[] { "--model", "cnn", "--hidden", "64" }, "--hidden is a parameter of --model lstm; this run's model is cnn.")]
    [TestCase(new[] { "--model", "lstm", "--channels", "64" }, "--channels is a parameter of --model cnn; this run's model is lstm.")]
    [TestCase(new[] { "--model", "gru" }, "'gru'")]
    [TestCase(new[] { "--channels", "0" }, "--channels must be positive; got 0")]
    [TestCase(new[] { "--max-chars", "2" }, "--model cnn reads at least --max-chars 3, the window of its MaxPool1d(3); got 2.")]
    public void AnOptionOfTheOtherModelIsAUsageError(string[] options, string message)
    {
        var result = NewsgroupClassifierApp.Run(["--data", NoCorpus, .. options]);

        result.AssertOneLineError(2, message);
        Assert.That(result.Stderr, Does.EndWith("(see --help)\n"));
    }

    // Exit code 2 was every error's; a command line that parses and then fails is CharPredict's 1.
    [Test]
    public void AMissingCorpusIsAFailureNotAUsageError()
    {
        var result = NewsgroupClassifierApp.Run(["--data", NoCorpus]);

        result.AssertOneLineError(1, $"The 20 Newsgroups corpus path {NoCorpus} does not exist.");
        Assert.That(result.Stderr, Does.Not.Contain("see --help"));
    }

    [Test]
    public void AnUnknownDeviceIsAFailureNotAUsageError()
    {
        var result = NewsgroupClassifierApp.Run(["--device", "tpu", "--data", NoCorpus]);

        result.AssertOneLineError(1, "Unknown device 'tpu'.");
    }

    [Test]
    public void ANonFiniteLossIsAFailureNotAUsageError()
    {
        string corpus = TestData.CorpusArchive;

        // A finite learning rate of 3e38 throws the weights to the float's limit: the loss is NaN by the second batch.
        var result = NewsgroupClassifierApp.Run(
            ["--data", corpus, "--model", "lstm", "--limit", "16", "--epochs", "1", "--max-chars", "16", "--embedding", "4", "--hidden", "8", "--batch", "4", "--lr", "3e38"]);

        result.AssertOneLineError(1, "Training stopped: the loss became NaN");
    }

    // The library's ArgumentException for an empty path ended in .NET's " (Parameter 'path')", a name the user never saw.
    [Test]
    public void AnArgumentErrorIsOneCleanLine()
    {
        string corpus = TestData.CorpusArchive;

        var result = NewsgroupClassifierApp.Run(["--data", corpus, "--limit", "4", "--export", ""]);

        result.AssertOneLineError(1, "The value cannot be an empty string.");
        Assert.That(result.Stderr, Is.EqualTo("error: The value cannot be an empty string.\n"));
    }

    // System.CommandLine read "@FILE" as a response file: --data took the arguments written in FILE (here a path that
    // does not exist), or, with no such file, none at all.
    [Test]
    public void AnAtSignIsPartOfThePathNotAResponseFile()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"tensorlet-at-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string file = Path.Combine(folder, "arguments");
            File.WriteAllText(file, NoCorpus + "\n");

            var result = NewsgroupClassifierApp.Run(["--data", "@" + file]);

            result.AssertOneLineError(1, $"The 20 Newsgroups corpus path @{file} does not exist.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void TheNumbersGivenAreTheOnesUsed()
    {
        string corpus = TestData.CorpusArchive;

        var result = NewsgroupClassifierApp.Run(
            ["--data", corpus, "--model", "lstm", "--limit", "8", "--epochs", "1", "--max-chars", "16", "--embedding", "4", "--hidden", "8", "--batch", "4", "--lr", "0.01", "--seed", "-5"]);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.Contain("8 train and 8 test posts"));
        Assert.That(result.Stdout, Does.Contain("Embedding(61, 4, padding_idx=0) → LSTM(8) → last step → Linear(20); 16 characters per post, batch 4, Adam lr 0.01."));
        Assert.That(result.Stdout, Does.Contain("epoch 1/1: train loss"));
    }

    // The default model, and the shortest window it reads (3 characters, pooled to one position).
    [TestCase(new[] { "--max-chars", "16" }, "16 characters")]
    [TestCase(new[] { "--model", "cnn", "--max-chars", "3" }, "3 characters")]
    public void TheCnnIsTheDefaultAndTakesItsChannels(string[] model, string window)
    {
        string corpus = TestData.CorpusArchive;

        var result = NewsgroupClassifierApp.Run(
            ["--data", corpus, "--limit", "8", "--epochs", "1", "--embedding", "4", "--channels", "6", "--batch", "4", "--lr", "0.01", .. model]);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.Stderr);
        Assert.That(result.Stdout, Does.Contain(
            $"Embedding(61, 4, padding_idx=0) → Conv1d(4, 6, 7) → ReLU → MaxPool1d(3) → Conv1d(6, 6, 5) → ReLU → global max → Dropout(0.5) → Linear(20); {window} per post, batch 4, Adam lr 0.01."));
        Assert.That(result.Stdout, Does.Contain("epoch 1/1: train loss"));
    }
}
