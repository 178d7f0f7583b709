using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;

namespace Tensorlet.Tests.App;

/// <summary>A train that fails leaves nothing behind, sizes are checked before anything is allocated, and a run never retrains silently.</summary>
public sealed class TrainFailureTests
{
    [TestCase("--device", "tpu", "Unknown device 'tpu'")]
    [TestCase("--data", "/nonexistent/20news", "does not exist")]
    [TestCase("--batch", "1000000", "needs about")]
    public void AFailedTrainLeavesNoRunFolder(string flag, string value, string fragment)
    {
        var runs = AppHarness.TempFolder();

        var result = AppHarness.Run(["train", "--model", "lstm", "--epochs", "1", "--runs-dir", runs, .. With(AppHarness.TinyTrainArgs, (flag, value))]);

        result.AssertError(1, fragment);
        Assert.That(Directory.GetFileSystemEntries(runs), Is.Empty, "no run folder, empty or not");
        Directory.Delete(runs, true);
    }

    [Test]
    public void ATrainingRunTooLargeForMemoryIsRefusedBeforeAllocating()
    {
        var runs = AppHarness.TempFolder();
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var result = AppHarness.Run(["train", "--model", "lstm", "--runs-dir", runs, .. With(AppHarness.TinyTrainArgs, ("--batch", "1000000"), ("--lstm-hidden", "4096"))]);

        result.AssertError(1, "GiB; this process may use");
        Assert.That(GC.GetTotalAllocatedBytes(precise: true) - before, Is.LessThan(1L << 30), "nothing near the estimate was allocated");
        Directory.Delete(runs, true);
    }

    [Test]
    public void ResumingARunWhoseCheckpointIsMissingIsAnErrorNotARetrain()
    {
        var run = BadInputTests.CopyOfSharedRun();
        File.Delete(Path.Combine(run, "lstm.safetensors"));
        var metrics = File.ReadAllText(Path.Combine(run, "metrics.csv"));

        var result = AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu");

        result.AssertError(1, "lstm.safetensors is missing");
        Assert.That(File.Exists(Path.Combine(run, "lstm.safetensors")), Is.False, "nothing was retrained");
        Assert.That(File.ReadAllText(Path.Combine(run, "metrics.csv")), Is.EqualTo(metrics));
        Directory.Delete(run, true);
    }

    [Test]
    public void ResumingARunWhoseFirstSaveOfAModelNeverCommittedTrainsThatModelFromScratch()
    {
        // What a kill during the LSTM's first save leaves: its epoch-1 metrics row, but no checkpoint and no saved mark.
        var run = BadInputTests.CopyOfSharedRun();
        var trained = Tensors(Path.Combine(run, "lstm.safetensors"));
        foreach (var file in Directory.GetFiles(run, "lstm.*"))
        {
            File.Delete(file);
        }

        var metrics = Path.Combine(run, "metrics.csv");
        File.WriteAllLines(metrics, File.ReadLines(metrics).Where(line => !line.StartsWith("lstm,2,", StringComparison.Ordinal)).ToArray());

        var result = AppHarness.Run("train", "--resume", run, "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("ngram: already trained for 2 epochs."));
        Assert.That(result.Stdout, Does.Not.Contain("lstm: resuming"), "the LSTM starts from scratch");
        Assert.That(Tensors(Path.Combine(run, "lstm.safetensors")), Is.EqualTo(trained), "the same weights as the uninterrupted run");
        Assert.That(File.Exists(Path.Combine(run, "lstm.saved")), Is.True);
        var epochs = File.ReadLines(metrics).Where(line => line.StartsWith("lstm,", StringComparison.Ordinal)).Select(line => line.Split(',')[1]);
        Assert.That(epochs, Is.EqualTo(new[] { "1", "2" }), "the interrupted epoch's row was redone, not repeated");
        Directory.Delete(run, true);
    }

    [TestCase(100_000, 2, "hidden size must be positive and at most 16384")]
    [TestCase(16, 100_000, "number of layers must be positive and at most 64")]
    [TestCase(16_384, 64, "parameters; at most")]
    public void ACheckpointClaimingAHugeModelIsOneErrorLine(int hidden, int layers, string fragment)
    {
        var folder = AppHarness.TempFolder();
        var path = Path.Combine(folder, "lstm.safetensors");
        var characters = CharVocabulary.FromTexts(["the cat"]);
        using (var device = Device.Create("cpu"))
        using (var model = new LstmCharModel(device, characters.Count, 4, 1, 0f, seed: 1))
        {
            var claimed = CharModelSpec.Lstm(characters.Count, hidden, layers, 0f);
            ModelCheckpoint.Save(path, model, claimed, characters, null, new TrainingPosition(1, 0, 1));
        }

        AppHarness.Run("sample", "--checkpoint", path, "--device", "cpu").AssertError(1, fragment);
        Directory.Delete(folder, true);
    }

    private static List<float[]> Tensors(string path) =>
        [.. SafeTensorsFile.Read(path).Tensors.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => t.Value.Data)];

    // The arguments with each flag's value replaced (System.CommandLine refuses a flag given twice).
    private static string[] With(string[] args, params (string Flag, string Value)[] changes)
    {
        var list = args.ToList();
        foreach (var (flag, value) in changes)
        {
            int at = list.IndexOf(flag);
            if (at < 0)
            {
                list.AddRange([flag, value]);
            }
            else
            {
                list[at + 1] = value;
            }
        }

        return [.. list];
    }
}
