using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary>
/// <c>train --resume</c> checks the run's config.json whole before it trains or writes anything: a missing field, a value
/// of the wrong kind or outside its flag's range is one error line naming the field (exit 1), and the run folder stays
/// as it was. Before, such a file crashed with a stack trace, trained on a default, or trained on the bad value.
/// </summary>
public sealed class ResumeConfigTests
{
    [TestCase("settings.batch", "0", "settings.batch must be positive and at most 1000000; got 0.")]
    [TestCase("settings.checkpoint_every", "0", "settings.checkpoint_every must be positive; got 0.")]
    [TestCase("settings.model", "\"bogus\"", "settings.model must be one of ngram, lstm, both; got 'bogus'.")]
    [TestCase("settings.cell", "\"bogus\"", "settings.cell must be one of lstm, gru, rnn; got 'bogus'.")]
    [TestCase("settings.cell", "null", "settings.cell must be one of lstm, gru, rnn; got null.")]
    [TestCase("settings.schedule", "\"bogus\"", "settings.schedule must be one of none, char-rnn")]
    [TestCase("settings.ngram_activation", "\"bogus\"", "settings.ngram_activation must be one of relu, tanh, sigmoid, gelu, silu, leaky_relu.")]
    [TestCase("settings.ngram_activation", "\"gelu_tanh\"", "settings.ngram_activation must be one of relu, tanh, sigmoid, gelu, silu, leaky_relu; got 'gelu_tanh'.")]
    [TestCase("settings.epochs", "0", "settings.epochs must be positive and at most 1000000; got 0.")]
    [TestCase("settings.sample_length", "-1", "settings.sample_length must be in [0, 100000]; got -1.")]
    [TestCase("settings.lr_decay", "0", "settings.lr_decay must be positive and at most 1; got 0.")]
    [TestCase("settings.ngram_windows", "-1", "settings.ngram_windows must be positive; got -1.")]
    [TestCase("settings.learning_rate", "-1", "settings.learning_rate must be positive; got -1.")]
    [TestCase("settings.max_batches", "0", "settings.max_batches must be positive; got 0.")]
    [TestCase("settings.lstm_hidden", "100000", "settings.lstm_hidden must be positive and at most 16384; got 100000.")]
    [TestCase("settings.optimizer", "\"adagrad\"", "settings.optimizer must be one of adam, adamw, sgd, rmsprop; got 'adagrad'.")]
    [TestCase("settings.optimizer", null, "settings.optimizer is missing.")]
    [TestCase("settings.momentum", "0.5", "settings.momentum must be 0 with optimizer adam, which has no momentum; got 0.5.")]
    [TestCase("settings.alpha", "0.95", "settings.alpha must be 0.99 with optimizer adam, which has no alpha; got 0.95.")]
    [TestCase("settings.alpha", "\"high\"", "settings.alpha must be a number.")]
    [TestCase("settings.centered", "true", "settings.centered must be false with optimizer adam, which has no centered form; got true.")]
    [TestCase("settings.centered", "\"yes\"", "settings.centered must be true or false.")]
    [TestCase("settings.amsgrad", "\"yes\"", "settings.amsgrad must be true or false.")]
    [TestCase("settings.batch", "\"many\"", "settings.batch must be a whole number.")]
    [TestCase("settings.clip_norm", "\"high\"", "settings.clip_norm must be a number or null.")]
    [TestCase("settings.batch", null, "settings.batch is missing.")]
    [TestCase("settings", "{}", "settings.model is missing.")]
    [TestCase("settings", "null", "settings must be an object; it holds null.")]
    [TestCase("data", null, "data is missing.")]
    [TestCase("data.vocabulary", "null", "data.vocabulary must be a string; got null.")]
    [TestCase("data.vocabulary_size", "3", "data.vocabulary_size must be 32, the characters of data.vocabulary; got 3.")]
    [TestCase("data.sequences", "-5", "data.sequences must be zero or more; got -5.")]
    public void AFieldOutOfItsRangeIsOneErrorLineAndTouchesNothing(string field, string? json, string expected)
    {
        var run = BadInputTests.CopyOfSharedRun();
        Edit(run, field, json);

        AssertRefused(run, $"config.json is not a valid run configuration: {expected}");
    }

    [TestCase("{}", "settings is missing.")]
    [TestCase("null", "it must be a JSON object; it holds null.")]
    [TestCase("[]", "it must be a JSON object; it holds a list.")]
    public void AConfigThatIsNotARunsIsOneErrorLineAndTouchesNothing(string json, string expected)
    {
        var run = BadInputTests.CopyOfSharedRun();
        File.WriteAllText(Path.Combine(run, "config.json"), json);

        AssertRefused(run, $"config.json is not a valid run configuration: {expected}");
    }

    [Test]
    public void ARunWrittenBeforeTheOptimizerChoiceResumesAsAdamWithoutWeightDecay()
    {
        // Such a run's config.json has none of the optimizer's settings; it trained Adam without weight decay.
        var run = BadInputTests.CopyOfSharedRun();
        foreach (var field in new[] { "settings.optimizer", "settings.weight_decay", "settings.momentum", "settings.alpha", "settings.centered", "settings.amsgrad" })
        {
            Edit(run, field, null);
        }

        var result = AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("optimizer: Adam, lr").And.Not.Contain("weight decay"));
        Directory.Delete(run, true);
    }

    // A run written before rmsprop has its optimizer, weight decay and momentum but no alpha or centered, which its
    // optimizer lacks.
    [Test]
    public void ARunWrittenBeforeRmspropResumesWithItsOptimizer()
    {
        var runs = AppHarness.TempFolder();
        var stopped = AppHarness.Run(["train", "--model", "lstm", "--epochs", "2", "--optimizer", "sgd", "--lr", "0.5", "--momentum", "0.9", "--stop-after-batches", "4", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);
        Assert.That(stopped.ExitCode, Is.EqualTo(CharPredictApp.Stopped), stopped.ToString());
        var run = AppHarness.OnlyRun(runs);
        Edit(run, "settings.alpha", null);
        Edit(run, "settings.centered", null);
        Edit(run, "settings.amsgrad", null);

        var result = AppHarness.Run("train", "--resume", run);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("optimizer: SGD, lr 0.5, momentum 0.9").And.Contain("lstm: resuming at epoch 2"));
        Directory.Delete(runs, true);
    }

    // A run written before --centered, or before --amsgrad, has every other setting; it trained, and resumes, without
    // that form: its saved state has no mean gradient, or running maximum, which a centered RMSprop, or an amsgrad AdamW,
    // would refuse.
    [TestCase("rmsprop", new[] { "--alpha", "0.95" }, new[] { "settings.centered", "settings.amsgrad" }, "RMSprop, lr 0.002, alpha 0.95")]
    [TestCase("adamw", new string[0], new[] { "settings.amsgrad" }, "AdamW, lr 0.002")]
    public void ARunWrittenBeforeCenteredOrAmsgradResumesWithout(string optimizer, string[] extra, string[] removed, string described)
    {
        var runs = AppHarness.TempFolder();
        var stopped = AppHarness.Run(["train", "--model", "lstm", "--epochs", "2", "--optimizer", optimizer, .. extra, "--stop-after-batches", "4", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);
        Assert.That(stopped.ExitCode, Is.EqualTo(CharPredictApp.Stopped), stopped.ToString());
        var run = AppHarness.OnlyRun(runs);
        foreach (var field in removed)
        {
            Edit(run, field, null);
        }

        var result = AppHarness.Run("train", "--resume", run);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain($"optimizer: {described}\n").Or.Contain($"optimizer: {described}\r\n"));
        Assert.That(result.Stdout, Does.Contain("lstm: resuming at epoch 2"));
        Directory.Delete(runs, true);
    }

    // An amsgrad form with an optimizer that has none: what no version of train writes.
    [Test]
    public void AmsgradWithAnOptimizerThatHasNoneIsOneErrorLineAndTouchesNothing()
    {
        var run = BadInputTests.CopyOfSharedRun();
        Edit(run, "settings.optimizer", "\"sgd\"");
        Edit(run, "settings.amsgrad", "true");

        AssertRefused(run, "config.json is not a valid run configuration: settings.amsgrad must be false with optimizer sgd, which has no amsgrad form; got true.");
    }

    // Settings no version of train wrote together: rmsprop without its alpha, alpha without the optimizer it belongs to;
    // an optimizer no version offered is named as such, whatever else the file lacks.
    [TestCase("\"rmsprop\"", new[] { "settings.alpha" }, "settings.alpha is missing.")]
    [TestCase("\"rmsprop\"", new[] { "settings.alpha", "settings.centered", "settings.amsgrad" }, "settings.alpha is missing.")]
    [TestCase(null, new[] { "settings.optimizer", "settings.weight_decay", "settings.momentum", "settings.alpha" }, "settings.optimizer is missing.")]
    [TestCase(null, new[] { "settings.optimizer", "settings.weight_decay", "settings.momentum" }, "settings.optimizer is missing.")]
    [TestCase(null, new[] { "settings.weight_decay", "settings.alpha" }, "settings.weight_decay is missing.")]
    [TestCase("\"adagrad\"", new[] { "settings.alpha", "settings.centered", "settings.amsgrad" }, "settings.optimizer must be one of adam, adamw, sgd, rmsprop; got 'adagrad'.")]
    public void ASettingsFileNoVersionWroteIsOneErrorLineAndTouchesNothing(string? optimizer, string[] removed, string expected)
    {
        var run = BadInputTests.CopyOfSharedRun();
        if (optimizer is not null)
        {
            Edit(run, "settings.optimizer", optimizer);
        }

        foreach (var field in removed)
        {
            Edit(run, field, null);
        }

        AssertRefused(run, $"config.json is not a valid run configuration: {expected}");
    }

    // The field is checked with its flag's own range: the two errors state the same rule.
    [TestCase("--batch", "settings.batch", "1000001")]
    [TestCase("--n", "settings.n", "100")]
    [TestCase("--lstm-dropout", "settings.lstm_dropout", "1")]
    [TestCase("--validation-fraction", "settings.validation_fraction", "1")]
    [TestCase("--threads", "settings.threads", "5000")]
    [TestCase("--weight-decay", "settings.weight_decay", "-1")]
    [TestCase("--momentum", "settings.momentum", "1")]
    [TestCase("--alpha", "settings.alpha", "1")]
    public void AFieldHasTheRangeOfItsFlag(string flag, string field, string value)
    {
        var flagError = AppHarness.Run("train", flag, value, "--device", "cpu");
        flagError.AssertError(2, $"{flag} must be");
        var run = BadInputTests.CopyOfSharedRun();
        Edit(run, field, value);

        AssertRefused(run, $"{field} must be {Rule(flagError.Stderr)}; got {value}.");
    }

    private static string Rule(string error) => Regex.Match(error, "must be (.*?); got").Groups[1].Value;

    // Resumes the run and checks that it is refused with one line holding `expected`, every file as it was.
    private static void AssertRefused(string run, string expected)
    {
        var before = Snapshot(run);

        AppHarness.Run("train", "--resume", run, "--epochs", "3", "--device", "cpu").AssertError(1, expected);
        Assert.That(Snapshot(run), Is.EqualTo(before), "the run folder is untouched");
        Directory.Delete(run, true);
    }

    private static Dictionary<string, byte[]> Snapshot(string run) => Directory.GetFiles(run).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    // Sets config.json's `field` (section.name, or a section) to `json`, or removes it when `json` is null.
    private static void Edit(string run, string field, string? json)
    {
        var path = Path.Combine(run, "config.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var parts = field.Split('.');
        var parent = parts.Length == 1 ? root : root[parts[0]]!.AsObject();
        if (json is null)
        {
            Assert.That(parent.Remove(parts[^1]), Is.True, $"config.json has {field}");
        }
        else
        {
            Assert.That(parent.ContainsKey(parts[^1]), Is.True, $"config.json has {field}");
            parent[parts[^1]] = JsonNode.Parse(json);
        }

        File.WriteAllText(path, root.ToJsonString());
    }
}
