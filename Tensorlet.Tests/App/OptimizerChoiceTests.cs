using System.Text.Json;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Samples.CharPredict;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

/// <summary>
/// <c>train --optimizer adam|adamw|sgd|rmsprop</c> with <c>--weight-decay</c>, <c>--momentum</c>, <c>--alpha</c>, <c>--centered</c> and <c>--amsgrad</c>, end
/// to end in process: each trains both models and is recorded in config.json and the optimizer files; a stopped run
/// resumes with its optimizer's saved state and ends bit for bit as an uninterrupted one, under each schedule kind;
/// --init-from takes any optimizer; another optimizer on resume, and --momentum, --alpha, --centered or --amsgrad with an optimizer that has
/// none, get one line and lose nothing.
/// </summary>
public sealed class OptimizerChoiceTests
{
    [TestCase("adam", new string[0], "Adam", "Adam, lr 0.01", 0f, 0f, 0.99f, false)]
    [TestCase("adamw", new[] { "--weight-decay", "0.1" }, "AdamW", "AdamW, lr 0.01, weight decay 0.1", 0.1f, 0f, 0.99f, false)]
    [TestCase("adam", new[] { "--amsgrad" }, "Adam", "Adam, lr 0.01, amsgrad", 0f, 0f, 0.99f, false, true)]
    [TestCase("adamw", new[] { "--amsgrad", "--weight-decay", "0.1" }, "AdamW", "AdamW, lr 0.01, amsgrad, weight decay 0.1", 0.1f, 0f, 0.99f, false, true)]
    [TestCase("sgd", new[] { "--momentum", "0.9", "--weight-decay", "0.001" }, "Sgd", "SGD, lr 0.01, weight decay 0.001, momentum 0.9", 0.001f, 0.9f, 0.99f, false)]
    [TestCase("sgd", new string[0], "Sgd", "SGD, lr 0.01", 0f, 0f, 0.99f, false)]
    [TestCase("rmsprop", new[] { "--alpha", "0.95", "--momentum", "0.9", "--weight-decay", "0.001" }, "RMSprop", "RMSprop, lr 0.01, alpha 0.95, weight decay 0.001, momentum 0.9", 0.001f, 0.9f, 0.95f, false)]
    [TestCase("rmsprop", new string[0], "RMSprop", "RMSprop, lr 0.01, alpha 0.99", 0f, 0f, 0.99f, false)]
    [TestCase("rmsprop", new[] { "--centered", "--momentum", "0.5" }, "RMSprop", "RMSprop, lr 0.01, alpha 0.99, centered, momentum 0.5", 0f, 0.5f, 0.99f, true)]
    public void EachOptimizerTrainsBothModelsAndIsRecorded(string optimizer, string[] extra, string savedAs, string described, float weightDecay, float momentum, float alpha, bool centered, bool amsgrad = false)
    {
        var runs = AppHarness.TempFolder();

        var result = AppHarness.Run(["train", "--model", "both", "--epochs", "1", "--optimizer", optimizer, "--lr", "0.01", .. extra, "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain($"; optimizer: {described}\n").Or.Contain($"; optimizer: {described}\r\n"), "the device line names the optimizer");
        var run = AppHarness.OnlyRun(runs);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
        {
            var settings = config.RootElement.GetProperty("settings");
            Assert.That(settings.GetProperty("optimizer").GetString(), Is.EqualTo(optimizer));
            Assert.That(settings.GetProperty("weight_decay").GetSingle(), Is.EqualTo(weightDecay));
            Assert.That(settings.GetProperty("momentum").GetSingle(), Is.EqualTo(momentum));
            Assert.That(settings.GetProperty("alpha").GetSingle(), Is.EqualTo(alpha));
            Assert.That(settings.GetProperty("centered").GetBoolean(), Is.EqualTo(centered));
            Assert.That(settings.GetProperty("amsgrad").GetBoolean(), Is.EqualTo(amsgrad));
        }

        foreach (var model in new[] { "ngram", "lstm" })
        {
            var state = SafeTensorsFile.Read(EditedSafeTensors.OptimizerFileOf(Path.Combine(run, model + ".safetensors")));
            Assert.That(state.Metadata["tensorlet.optimizer"], Is.EqualTo(savedAs), model);
            Assert.That(state.Tensors.Keys.Any(k => k.StartsWith("momentum_buffer.", StringComparison.Ordinal)), Is.EqualTo(momentum != 0), $"{model}: SGD's or RMSprop's momentum buffers");
            Assert.That(state.Tensors.Keys.Any(k => k.StartsWith("grad_avg.", StringComparison.Ordinal)), Is.EqualTo(centered), $"{model}: a centered RMSprop's mean gradients");
            Assert.That(state.Tensors.Keys.Any(k => k.StartsWith("max_exp_avg_sq.", StringComparison.Ordinal)), Is.EqualTo(amsgrad), $"{model}: an amsgrad Adam's or AdamW's running maxima");
            Assert.That(state.Metadata["tensorlet.step"], Is.EqualTo("3"), $"{model}: 3 batches");
        }

        Directory.Delete(runs, true);
    }

    // The settings reach the optimizer: RMSprop's α, momentum, weight decay and centering, ε torch's default.
    [TestCase(false)]
    [TestCase(true)]
    public void RmspropIsMadeWithTheRunsSettings(bool centered)
    {
        using var model = new Linear(3, 2);
        model.Build(TestDevices.Get("cpu"), seed: 1);
        var settings = new TrainSettings { Optimizer = "rmsprop", LearningRate = 0.002f, Alpha = 0.95f, Momentum = 0.9f, WeightDecay = 0.01f, Centered = centered };

        using var optimizer = RunOptimizer.Create(settings, model.Parameters);

        Assert.That(optimizer, Is.TypeOf<RMSprop>());
        var rmsprop = (RMSprop)optimizer;
        Assert.That((rmsprop.LearningRate, rmsprop.Alpha, rmsprop.Momentum, rmsprop.WeightDecay, rmsprop.Epsilon, rmsprop.Centered), Is.EqualTo((0.002f, 0.95f, 0.9f, 0.01f, 1e-8f, centered)));
    }

    // The settings reach the optimizer: Adam's and AdamW's amsgrad and weight decay.
    [TestCase("adam", false)]
    [TestCase("adam", true)]
    [TestCase("adamw", true)]
    public void AdamIsMadeWithTheRunsSettings(string optimizerName, bool amsgrad)
    {
        using var model = new Linear(3, 2);
        model.Build(TestDevices.Get("cpu"), seed: 1);
        var settings = new TrainSettings { Optimizer = optimizerName, LearningRate = 0.002f, WeightDecay = 0.01f, Amsgrad = amsgrad };

        using var optimizer = RunOptimizer.Create(settings, model.Parameters);

        var made = optimizer switch
        {
            Adam adam => (adam.LearningRate, adam.WeightDecay, adam.Amsgrad),
            AdamW adamW => (adamW.LearningRate, adamW.WeightDecay, adamW.Amsgrad),
            _ => throw new AssertionException($"made {optimizer.GetType().Name}"),
        };
        Assert.That((optimizer.GetType().Name.ToLowerInvariant(), made), Is.EqualTo((optimizerName, (0.002f, 0.01f, amsgrad))));
    }

    // Stopped in the middle of the last epoch, then resumed: the same losses, learning rates (a per-batch schedule
    // replayed from the batches trained, an epoch schedule from the run's history) and weights as a run never
    // interrupted, which needs the optimizer's saved state (AdamW's moments, Adam's running maxima, SGD's momentum buffers, RMSprop's mean
    // squares, mean gradients and momentum buffers) and RMSprop's α and centering from config.json.
    [TestCase("adamw", new[] { "--weight-decay", "0.1", "--schedule", "warmup-cosine", "--warmup-steps", "2" })]
    [TestCase("sgd", new[] { "--momentum", "0.9", "--lr", "0.5", "--schedule", "step", "--lr-step-size", "1", "--lr-decay", "0.5" })]
    [TestCase("sgd", new[] { "--momentum", "0.5", "--weight-decay", "0.01", "--lr", "20", "--schedule", "plateau", "--lr-patience", "0", "--lr-decay", "0.5" })] // far too high: the loss rises in epoch 3
    [TestCase("adam", new[] { "--weight-decay", "0.01" })]
    [TestCase("adam", new[] { "--amsgrad", "--weight-decay", "0.01", "--lr", "0.01" })]
    [TestCase("rmsprop", new[] { "--momentum", "0.9", "--alpha", "0.95", "--weight-decay", "0.01", "--schedule", "exponential", "--lr-decay", "0.5" })]
    [TestCase("rmsprop", new[] { "--alpha", "0.5", "--lr", "0.01", "--schedule", "warmup-cosine", "--warmup-steps", "2" })]
    [TestCase("rmsprop", new[] { "--centered", "--momentum", "0.5", "--alpha", "0.9", "--lr", "0.005" })]
    public void StoppingMidEpochAndResumingEndsAsAnUninterruptedRun(string optimizer, string[] extra)
    {
        string[] args = ["train", "--model", "lstm", "--epochs", "4", "--optimizer", optimizer, .. extra, .. AppHarness.TinyTrainArgs];
        var wholeRuns = AppHarness.TempFolder();
        var whole = AppHarness.Run([.. args, "--runs-dir", wholeRuns]);
        Assert.That(whole.ExitCode, Is.EqualTo(0), whole.ToString());
        var runs = AppHarness.TempFolder();

        var stopped = AppHarness.Run([.. args, "--runs-dir", runs, "--stop-after-batches", "11"]);

        Assert.That(stopped.ExitCode, Is.EqualTo(CharPredictApp.Stopped), stopped.ToString());
        var run = AppHarness.OnlyRun(runs);
        Assert.That(ModelCheckpoint.Read(Path.Combine(run, "lstm.safetensors")).Position.Step, Is.EqualTo(11), "stopped in the last epoch, after its second batch");
        var resumed = AppHarness.Run("train", "--resume", run);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Stdout, Does.Contain("lstm: resuming at epoch 4, batch 3 (step 11)"));
        var wholeRun = AppHarness.OnlyRun(wholeRuns);
        using (var history = JsonDocument.Parse(File.ReadAllText(Path.Combine(wholeRun, "lstm.history.json"))))
        {
            var rates = history.RootElement.EnumerateArray().Select(e => e.GetProperty("learning_rate").GetDouble()).ToArray();
            Assert.That(rates.Distinct().Count() > 1, Is.EqualTo(extra.Contains("--schedule")), $"a schedule moved the rate before the stop, so the resume has to replay it: {string.Join(", ", rates)}");
        }


        Assert.Multiple(() =>
        {
            Assert.That(LossColumns(run), Is.EqualTo(LossColumns(wholeRun)), "metrics.csv");
            Assert.That(File.ReadAllText(Path.Combine(run, "lstm.history.json")), Is.EqualTo(File.ReadAllText(Path.Combine(wholeRun, "lstm.history.json"))), "exact validation losses and learning rates");
            Assert.That(Tensors(Path.Combine(run, "lstm.safetensors")), Is.EqualTo(Tensors(Path.Combine(wholeRun, "lstm.safetensors"))), "final weights, bit for bit");
        });
        Directory.Delete(runs, true);
        Directory.Delete(wholeRuns, true);
    }

    [Test]
    public void AnotherOptimizerOnResumeIsOneErrorLineAndTouchesNothing()
    {
        var runs = AppHarness.TempFolder();
        var stopped = AppHarness.Run(["train", "--model", "lstm", "--epochs", "2", "--optimizer", "adamw", "--stop-after-batches", "4", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);
        Assert.That(stopped.ExitCode, Is.EqualTo(CharPredictApp.Stopped), stopped.ToString());
        var run = AppHarness.OnlyRun(runs);
        var before = Snapshot(run);

        AppHarness.Run("train", "--resume", run, "--optimizer", "sgd").AssertError(1, "--optimizer cannot change when resuming");
        AppHarness.Run("train", "--resume", run, "--optimizer", "adamw").AssertError(1, "--optimizer cannot change when resuming");
        AppHarness.Run("train", "--resume", run, "--weight-decay", "0.1").AssertError(1, "--weight-decay cannot change when resuming");
        AppHarness.Run("train", "--resume", run, "--alpha", "0.95").AssertError(1, "--alpha cannot change when resuming");
        AppHarness.Run("train", "--resume", run, "--centered").AssertError(1, "--centered cannot change when resuming");
        AppHarness.Run("train", "--resume", run, "--amsgrad").AssertError(1, "--amsgrad cannot change when resuming");
        Assert.That(Snapshot(run), Is.EqualTo(before), "the run folder is untouched");

        // config.json edited to name another optimizer: the saved state is AdamW's, which an Adam cannot take.
        var config = Path.Combine(run, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"optimizer\": \"adamw\"", "\"optimizer\": \"adam\"", StringComparison.Ordinal));
        before = Snapshot(run);
        AppHarness.Run("train", "--resume", run, "--device", "cpu").AssertError(1, "holds the state of AdamW, not of the Adam given");
        Assert.That(Snapshot(run), Is.EqualTo(before), "the run folder is untouched");
        Directory.Delete(runs, true);
    }

    [Test]
    public void OptimizerParametersWithoutTheirOptimizerAndBadOptimizerValuesAreUsageErrors()
    {
        // --data names no file: a command line that parsed would fail at once on reading the data, not train.
        AppHarness.Run("train", "--momentum", "0.9", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--momentum is a parameter of --optimizer sgd or rmsprop; this run's optimizer is adam, which has none.");
        AppHarness.Run("train", "--optimizer", "adamw", "--momentum", "0.5", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--momentum is a parameter of --optimizer sgd or rmsprop; this run's optimizer is adamw");
        AppHarness.Run("train", "--optimizer", "sgd", "--momentum", "1").AssertError(CharPredictApp.UsageError, "--momentum must be in [0, 1); got 1.");
        AppHarness.Run("train", "--alpha", "0.95", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--alpha is a parameter of --optimizer rmsprop; this run's optimizer is adam, which has none.");
        AppHarness.Run("train", "--optimizer", "sgd", "--momentum", "0.9", "--alpha", "0.95", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--alpha is a parameter of --optimizer rmsprop; this run's optimizer is sgd");
        AppHarness.Run("train", "--optimizer", "rmsprop", "--alpha", "1").AssertError(CharPredictApp.UsageError, "--alpha must be in [0, 1); got 1.");
        AppHarness.Run("train", "--optimizer", "rmsprop", "--alpha", "-0.1").AssertError(CharPredictApp.UsageError, "--alpha must be in [0, 1); got -0.1.");
        AppHarness.Run("train", "--centered", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--centered is a parameter of --optimizer rmsprop; this run's optimizer is adam, which has none.");
        AppHarness.Run("train", "--optimizer", "sgd", "--centered", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--centered is a parameter of --optimizer rmsprop; this run's optimizer is sgd, which has none.");
        AppHarness.Run("train", "--optimizer", "rmsprop", "--centered", "maybe").AssertError(CharPredictApp.UsageError, "maybe");
        AppHarness.Run("train", "--optimizer", "sgd", "--amsgrad", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--amsgrad is a parameter of --optimizer adam or adamw; this run's optimizer is sgd, which has none.");
        AppHarness.Run("train", "--optimizer", "rmsprop", "--amsgrad", "--data", "/nonexistent").AssertError(CharPredictApp.UsageError, "--amsgrad is a parameter of --optimizer adam or adamw; this run's optimizer is rmsprop, which has none.");
        AppHarness.Run("train", "--amsgrad", "maybe").AssertError(CharPredictApp.UsageError, "maybe");
        AppHarness.Run("train", "--optimizer", "adagrad").AssertError(CharPredictApp.UsageError, "adagrad");
        AppHarness.Run("train", "--weight-decay", "-0.1").AssertError(CharPredictApp.UsageError, "--weight-decay must be zero or more; got -0.1.");
        AppHarness.Run("train", "--weight-decay", "NaN").AssertError(CharPredictApp.UsageError, "--weight-decay must be a finite number");
    }

    // A checkpoint trained with one optimizer starts a run with another: --init-from takes the weights only.
    [Test]
    public void InitFromStartsAFreshOptimizerOfTheRunsKind()
    {
        var pretrainRuns = AppHarness.TempFolder();
        var pretrained = AppHarness.Run(["train", "--model", "lstm", "--epochs", "1", "--optimizer", "sgd", "--momentum", "0.9", "--runs-dir", pretrainRuns, .. AppHarness.TinyTrainArgs]);
        Assert.That(pretrained.ExitCode, Is.EqualTo(0), pretrained.ToString());
        string init = Path.Combine(AppHarness.OnlyRun(pretrainRuns), "lstm.safetensors");
        var runs = AppHarness.TempFolder();

        var tuned = AppHarness.Run([
            "train", "--init-from", init, "--optimizer", "adamw", "--weight-decay", "0.01", "--device", "cpu", "--epochs", "1", "--max-batches", "2", "--batch", "50",
            "--sample-length", "0", .. AppHarness.DataArgs, "--runs-dir", runs]);

        Assert.That(tuned.ExitCode, Is.EqualTo(0), tuned.ToString());
        var path = Path.Combine(AppHarness.OnlyRun(runs), "lstm.safetensors");
        var state = SafeTensorsFile.Read(EditedSafeTensors.OptimizerFileOf(path));
        Assert.That(state.Metadata["tensorlet.optimizer"], Is.EqualTo("AdamW"));
        Assert.That(state.Metadata["tensorlet.step"], Is.EqualTo("2"), "a fresh optimizer: its own 2 steps, not the checkpoint's 3 + 2");
        Directory.Delete(pretrainRuns, true);
        Directory.Delete(runs, true);
    }

    private static Dictionary<string, byte[]> Snapshot(string run) => Directory.GetFiles(run).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static Dictionary<string, float[]> Tensors(string path) => SafeTensorsFile.Read(path).Tensors.ToDictionary(t => t.Key, t => t.Value.Data);

    // model, epoch and the loss columns of metrics.csv (throughput and time differ run to run).
    private static string[] LossColumns(string run)
        => [.. File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..6]))];
}
