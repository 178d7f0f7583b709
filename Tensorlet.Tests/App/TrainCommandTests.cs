using System.Globalization;
using System.Text.Json;
using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Samples.CharPredict;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

public sealed class TrainCommandTests
{
    private const string MetricsHeader = "model,epoch,train_loss,val_loss_all,val_loss_common,val_bpc,chars_per_s,seconds";

    [Test]
    public void TrainingBothModelsWritesTheWholeRunFolder()
    {
        var run = AppHarness.SharedRun;

        Assert.That(Path.GetFileName(run), Does.Match(@"^\d{8}-\d{6}-both"));
        foreach (var file in new[] { "config.json", "metrics.csv", "loss.png", "samples.txt", "lstm.safetensors", "ngram.safetensors" })
        {
            Assert.That(File.Exists(Path.Combine(run, file)), Is.True, file);
        }

        foreach (var model in new[] { "lstm", "ngram" })
        {
            Assert.That(Directory.GetFiles(run, $"{model}.optimizer.*.safetensors"), Has.Length.EqualTo(1), $"one optimizer file for {model}");
        }

        Assert.That(Directory.GetFiles(run, ".*").Select(Path.GetFileName), Is.EqualTo(new[] { ".train.lock" }), "no temporary file, only the lock train holds the run by");

        Assert.That(Directory.GetFiles(run, "*.partial-epoch.json"), Is.Empty, "no partial epoch after a finished run");
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.csv"));
        Assert.That(lines[0], Is.EqualTo(MetricsHeader));
        var rows = lines[1..].Select(l => l.Split(',')).ToArray();
        Assert.That(rows.Select(r => $"{r[0]} {r[1]}"), Is.EqualTo(new[] { "ngram 1", "ngram 2", "lstm 1", "lstm 2" }));
        foreach (var row in rows)
        {
            var numbers = row[2..].Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // seconds is written to two decimals, and a tiny model's epoch can take under 5 ms: 0.00.
            Assert.That(numbers[..^1], Is.All.GreaterThan(0), string.Join(',', row));
            Assert.That(numbers[^1], Is.GreaterThanOrEqualTo(0), string.Join(',', row));
            Assert.That(numbers[3], Is.EqualTo(numbers[1] / Math.Log(2)).Within(2e-6), "val_bpc is val_loss_all in bits");
        }

        var ngram = rows.Where(r => r[0] == "ngram").ToArray();
        Assert.That(ngram.Select(r => r[3]), Is.EqualTo(ngram.Select(r => r[4])), "the n-gram model predicts exactly positions n..99");
        Assert.That(double.Parse(rows[3][7], CultureInfo.InvariantCulture), Is.GreaterThan(double.Parse(rows[2][7], CultureInfo.InvariantCulture)), "seconds add up");

        var png = File.ReadAllBytes(Path.Combine(run, "loss.png"));
        Assert.That(png[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG");
        Assert.That(png, Has.Length.GreaterThan(5000));

        var samples = File.ReadAllLines(Path.Combine(run, "samples.txt"));
        Assert.That(samples, Has.Length.EqualTo(4));
        Assert.That(samples[0], Does.StartWith("[ngram epoch 1, temperature 0.5] the "));
        Assert.That(samples[3], Does.StartWith("[lstm epoch 2, temperature 0.5] the "));

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        var settings = config.RootElement.GetProperty("settings");
        Assert.That(settings.GetProperty("lstm_hidden").GetInt32(), Is.EqualTo(16));
        Assert.That(settings.GetProperty("ngram_windows").GetInt32(), Is.EqualTo(10));
        Assert.That(settings.GetProperty("ngram_activation").GetString(), Is.EqualTo("relu"));
        Assert.That(settings.GetProperty("max_batches").GetInt32(), Is.EqualTo(3));
        var data = config.RootElement.GetProperty("data");
        Assert.That(data.GetProperty("sequences").GetInt32(), Is.EqualTo(AppHarness.Sequences));
        Assert.That(data.GetProperty("vocabulary_size").GetInt32(), Is.EqualTo(data.GetProperty("vocabulary").GetString()!.Length));

        var lstm = ModelCheckpoint.Read(Path.Combine(run, "lstm.safetensors"), ModelKind.Lstm);
        Assert.That(lstm.Position.Epoch, Is.EqualTo(2));
        Assert.That(lstm.Position.Step, Is.EqualTo(6));
        Assert.That(lstm.Spec.HiddenSize, Is.EqualTo(16));
        var ngramCheckpoint = ModelCheckpoint.Read(Path.Combine(run, "ngram.safetensors"), ModelKind.Ngram);
        Assert.That(ngramCheckpoint.Spec.NgramOrder, Is.EqualTo(3));
        Assert.That(ngramCheckpoint.Ngrams!.Count, Is.EqualTo(data.GetProperty("ngram_vocabulary_size").GetInt32()));
    }

    [Test]
    public void ResumingAfterOneEpochGivesTheUninterruptedRunsSecondEpoch()
    {
        var runs = AppHarness.TempFolder();
        var first = AppHarness.Run(["train", "--model", "lstm", "--epochs", "1", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);
        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        Assert.That(first.Stdout, Does.Contain("Validation loss on positions 3..99, those an n-gram model of n = 3 would predict:").And.Not.Contain("both models"), "one model trained");
        var run = AppHarness.OnlyRun(runs);

        // --data may name the corpus again (or where it moved); the run reads the same sequences.
        var resumed = AppHarness.Run("train", "--resume", run, "--epochs", "2", "--data", TestData.CorpusArchive);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Stdout, Does.Contain("lstm: resuming at epoch 2, batch 1 (step 3)"));
        var rows = LossColumns(run);
        Assert.That(rows, Has.Length.EqualTo(2));
        Assert.That(rows, Is.EqualTo(LossColumns(AppHarness.SharedRun).Where(r => r.StartsWith("lstm", StringComparison.Ordinal))), "the same losses to the last printed digit");
        Directory.Delete(runs, true);
    }

    [Test]
    public void StoppingMidEpochSavesAndResumingFinishesExactlyAsAnUninterruptedRun()
    {
        var runs = AppHarness.TempFolder();

        // 4 batches: the n-gram model's first epoch (3) and one batch of its second.
        var stopped = AppHarness.Run(["train", "--model", "both", "--epochs", "2", "--stop-after-batches", "4", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);

        Assert.That(stopped.ExitCode, Is.EqualTo(CharPredictApp.Stopped), stopped.ToString());
        Assert.That(stopped.Stdout, Does.Contain("--resume"));
        var run = AppHarness.OnlyRun(runs);
        var checkpoint = ModelCheckpoint.Read(Path.Combine(run, "ngram.safetensors"), ModelKind.Ngram);
        Assert.That(checkpoint.Position, Is.EqualTo(new TrainingPosition(1, 1, 4)));
        Assert.That(File.Exists(Path.Combine(run, "lstm.safetensors")), Is.False, "the LSTM had not started");
        Assert.That(LossColumns(run), Has.Length.EqualTo(1));

        var resumed = AppHarness.Run("train", "--resume", run);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Stdout, Does.Contain("Validation loss on positions 3..99, where both models predict:"));
        Assert.That(LossColumns(run), Is.EqualTo(LossColumns(AppHarness.SharedRun)));
        Assert.That(Directory.GetFiles(run, "*.partial-epoch.json"), Is.Empty);
        Directory.Delete(runs, true);
    }

    [Test]
    public void EachEpochPrintsOneLineWithLossesBitsAndASample()
    {
        var runs = AppHarness.TempFolder();

        var result = AppHarness.Run(["train", "--model", "ngram", "--epochs", "1", "--ngram-windows", "all", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        // The line shows metrics.csv's row, rounded.
        var row = File.ReadAllLines(Path.Combine(AppHarness.OnlyRun(runs), "metrics.csv"))[1].Split(',');
        string F(int column, string format) => double.Parse(row[column], CultureInfo.InvariantCulture).ToString(format, CultureInfo.InvariantCulture);
        Assert.That(result.Stdout, Does.Contain($"ngram epoch 1/1: train {F(2, "F4")}  val {F(3, "F4")} (3..99: {F(4, "F4")})  {F(5, "F3")} bits/char"));
        Assert.That(result.Stdout, Does.Contain("  \"the "));
        Assert.That(result.Stdout, Does.Contain("ngram epoch 1 batch 3/3"), "plain progress lines when output is not a terminal");
        Assert.That(result.Stdout, Does.Contain("Validation loss on positions 3..99, all that the n-gram model predicts:").And.Not.Contain("both models"), "one model trained");
        Assert.That(result.Stdout, Does.Contain("n-gram model wins").Or.Contain("best"));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppHarness.OnlyRun(runs), "config.json")));
        Assert.That(config.RootElement.GetProperty("settings").GetProperty("ngram_windows").ValueKind, Is.EqualTo(JsonValueKind.Null), "all windows");
        Directory.Delete(runs, true);
    }

    [TestCase("gelu", Activation.Gelu)]
    [TestCase("silu", Activation.Silu)]
    [TestCase("leaky_relu", Activation.LeakyRelu)]
    public void AnNgramActivationIsRecordedByNameAndTheRunResumesAndSamplesWithIt(string name, Activation activation)
    {
        var folder = AppHarness.TempFolder();
        string text = Path.Combine(folder, "train.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 40)));
        var runs = Path.Combine(folder, "runs");
        string[] tiny = ["--text", text, "--model", "ngram", "--ngram-hidden", "4", "--max-batches", "2", "--batch", "8", "--sample-length", "5", "--device", "cpu", "--threads", "1"];

        var first = AppHarness.Run(["train", "--ngram-activation", name, "--epochs", "1", "--runs-dir", runs, .. tiny]);

        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        Assert.That(first.Stdout, Does.Contain($"hidden 4 {name},"));
        var run = AppHarness.OnlyRun(runs);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
        {
            Assert.That(config.RootElement.GetProperty("settings").GetProperty("ngram_activation").GetString(), Is.EqualTo(name));
        }

        var checkpoint = Path.Combine(run, "ngram.safetensors");
        Assert.That(ModelCheckpoint.Read(checkpoint, ModelKind.Ngram).Spec.Activation, Is.EqualTo(activation));

        // --resume rebuilds the model from config.json, and refuses a checkpoint whose spec differs from it.
        var resumed = AppHarness.Run("train", "--resume", run, "--epochs", "2");

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Stdout, Does.Contain("ngram: resuming at epoch 2").And.Contain($"hidden 4 {name},"));
        Assert.That(ModelCheckpoint.Read(checkpoint, ModelKind.Ngram).Position.Epoch, Is.EqualTo(2));

        var sampled = AppHarness.Run("sample", "--checkpoint", checkpoint, "--start", "the ", "--length", "5", "--device", "cpu");

        Assert.That(sampled.ExitCode, Is.EqualTo(0), sampled.ToString());
        Assert.That(sampled.Stdout, Does.Contain("the "));
        Directory.Delete(folder, true);
    }

    [Test]
    public void TrainingRunsOnTheIlgpuCpuDevice()
    {
        // The GPU kernels on ILGPU's CPU accelerator: slow, so the smallest run that still trains, validates and samples.
        var runs = AppHarness.TempFolder();

        string[] args =
        [
            "train", "--device", "ilgpu-cpu", "--epochs", "1", "--max-batches", "1", "--batch", "10", "--lstm-hidden", "8", "--ngram-hidden", "8",
            "--sample-length", "5", "--data", Infrastructure.TestData.CorpusArchive, "--max-sequences", "40", "--runs-dir", runs,
        ];
        var result = AppHarness.Run(args);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("Device: ilgpu-cpu"));
        var rows = LossColumns(AppHarness.OnlyRun(runs));
        Assert.That(rows.Select(r => r[..r.IndexOf(',', r.IndexOf(',') + 1)]), Is.EqualTo(new[] { "ngram,1", "lstm,1" }));

        // The same run on cpu: the same losses, up to float32 summation order (about 1e-6 here).
        var cpuRuns = Path.Combine(runs, "cpu");
        var onCpu = AppHarness.Run([.. args.Select(a => a == "ilgpu-cpu" ? "cpu" : a == runs ? cpuRuns : a)]);
        Assert.That(onCpu.ExitCode, Is.EqualTo(0), onCpu.ToString());
        var cpuRows = LossColumns(AppHarness.OnlyRun(cpuRuns));
        Assert.That(cpuRows, Has.Length.EqualTo(rows.Length));
        for (int r = 0; r < rows.Length; r++)
        {
            Assert.That(Numbers(rows[r]), Is.EqualTo(Numbers(cpuRows[r])).Within(1e-4), $"ilgpu-cpu {rows[r]}, cpu {cpuRows[r]}");
        }
        Directory.Delete(runs, true);
    }

    private static double[] Numbers(string lossColumns) => [.. lossColumns.Split(',')[2..].Select(f => double.Parse(f, CultureInfo.InvariantCulture))];

    // model, epoch and the four loss columns of metrics.csv (throughput and time differ run to run).
    private static string[] LossColumns(string run)
        => [.. File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..6]))];
}
