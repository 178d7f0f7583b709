using System.Globalization;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary>
/// <c>train --text</c> end to end, in process: texts the tests write themselves (CJK, emoji and newlines; invalid UTF-8),
/// tiny models of both cells in both batching modes, exact resume (after Ctrl+C and after a kill that follows a
/// --checkpoint-every save), the best checkpoint, the learning-rate schedules, and sampling from what was trained.
/// </summary>
public sealed class TextTrainingTests
{
    private string folder = "";
    private string unicodeText = "";

    [OneTimeSetUp]
    public void WriteTexts()
    {
        folder = AppHarness.TempFolder();
        unicodeText = Path.Combine(folder, "unicode.txt");
        File.WriteAllText(unicodeText, UnicodeText(), new UTF8Encoding(false));
    }

    [OneTimeTearDown]
    public void DeleteTexts() => Directory.Delete(folder, recursive: true);

    [TestCase("lstm", false)]
    [TestCase("lstm", true)]
    [TestCase("gru", false)]
    [TestCase("gru", true)]
    [TestCase("rnn", false)]
    public void TrainingOnAUnicodeTextThenSamplingUsesOnlyItsCharacters(string cell, bool stateful)
    {
        var runs = AppHarness.TempFolder();

        var trained = AppHarness.Run([.. Tiny(cell, stateful), "--epochs", "2", "--runs-dir", runs]);

        Assert.That(trained.ExitCode, Is.EqualTo(0), trained.ToString());
        var run = AppHarness.OnlyRun(runs);
        Assert.That(Path.GetFileName(run), Does.EndWith("-" + cell));
        var textCharacters = File.ReadAllText(unicodeText).EnumerateRunes().Distinct().OrderBy(r => r.Value).ToArray();
        var checkpoint = ModelCheckpoint.Read(Path.Combine(run, cell + ".safetensors"));
        Assert.That(checkpoint.Spec.Kind, Is.EqualTo(cell switch { "gru" => ModelKind.Gru, "rnn" => ModelKind.Rnn, _ => ModelKind.Lstm }));
        Assert.That(checkpoint.Vocabulary.Runes, Is.EqualTo(textCharacters), "the vocabulary is the text's characters, sorted");
        Assert.That(checkpoint.Vocabulary.Serialize(), Does.Contain("猫").And.Contain("😀").And.Contain("\n"));
        Assert.That(File.Exists(Path.Combine(run, cell + ".best.safetensors")), Is.True);
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))))
        {
            var settings = config.RootElement.GetProperty("settings");
            Assert.That(settings.GetProperty("text").GetString(), Is.EqualTo(unicodeText));
            Assert.That(settings.GetProperty("cell").GetString(), Is.EqualTo(cell));
            Assert.That(settings.GetProperty("stateful").GetBoolean(), Is.EqualTo(stateful));
            Assert.That(settings.GetProperty("seq_len").GetInt32(), Is.EqualTo(16));
            Assert.That(settings.GetProperty("validation_fraction").GetDouble(), Is.EqualTo(0.05), "char-rnn's default for a text");
            Assert.That(config.RootElement.GetProperty("data").GetProperty("characters").GetInt32(), Is.EqualTo(File.ReadAllText(unicodeText).EnumerateRunes().Count()));
        }

        // Temperature 1 draws from the whole distribution: any character outside the text would show.
        var sampled = AppHarness.Run("sample", "--checkpoint", Path.Combine(run, cell + ".best.safetensors"), "--start", "猫", "--length", "400", "--temperature", "1", "--device", "cpu");

        Assert.That(sampled.ExitCode, Is.EqualTo(0), sampled.ToString());
        var text = sampled.Stdout[..^Environment.NewLine.Length];
        var runes = text.EnumerateRunes().ToArray();
        Assert.That(runes, Has.Length.EqualTo(401), "--length counts characters; an emoji is one");
        Assert.That(runes.Distinct(), Is.SubsetOf(textCharacters));
        Assert.That(runes.Count(r => r.Value > 0x7F), Is.GreaterThan(1), "CJK and emoji come out whole");

        // --per-char prints one row per character; a newline shows as U+000A rather than breaking its row.
        var scored = AppHarness.Run("eval", "--checkpoint", Path.Combine(run, cell + ".safetensors"), "--text", "猫\ncat 😀", "--per-char", "--device", "cpu");
        Assert.That(scored.ExitCode, Is.EqualTo(0), scored.ToString());
        var rows = scored.Stdout.Split('\n').Where(l => l.Length > 0 && char.IsAsciiDigit(l[0])).Select(l => l.Split('\t')[1]).ToArray();
        Assert.That(rows, Is.EqualTo(new[] { "U+000A", "'c'", "'a'", "'t'", "' '", "'😀'" }));
        Directory.Delete(runs, true);
    }

    [Test]
    public void InvalidUtf8IsOneLineNamingTheFileAndTheByteOffsetAndLeavesNoRunFolder()
    {
        var bad = Path.Combine(folder, "bad.txt");
        File.WriteAllBytes(bad, [.. Encoding.UTF8.GetBytes("héllo wörld\n猫"), 0xE7, 0x8C, (byte)'x', .. Encoding.UTF8.GetBytes(" more text")]);
        var runs = AppHarness.TempFolder();

        var result = AppHarness.Run("train", "--text", bad, "--runs-dir", runs, "--device", "cpu");

        result.AssertError(CharPredictApp.Failure, bad);
        Assert.That(result.Stderr, Does.Contain("byte offset 17"), "é, ö and 猫 take 2, 2 and 3 bytes: the broken 猫 starts at byte 17");
        Assert.That(Directory.GetFileSystemEntries(runs), Is.Empty, "no run folder");
        Directory.Delete(runs, true);
    }

    [Test]
    public void TextOnlyOptionsAndScheduleParametersOutOfPlaceAreUsageErrors()
    {
        AppHarness.Run("train", "--stateful").AssertError(CharPredictApp.UsageError, "--stateful needs --text");
        AppHarness.Run("train", "--text", unicodeText, "--seq-len", "0").AssertError(CharPredictApp.UsageError, "--seq-len must be positive");
        AppHarness.Run("train", "--text", unicodeText, "--lr-decay", "1.5").AssertError(CharPredictApp.UsageError, "--lr-decay must be positive and below 1");
        AppHarness.Run("train", "--text", unicodeText, "--lr-patience", "2").AssertError(CharPredictApp.UsageError, "--lr-patience is a parameter of --schedule plateau");
        AppHarness.Run("train", "--text", unicodeText, "--checkpoint-every", "NaN").AssertError(CharPredictApp.UsageError, "--checkpoint-every takes a whole number");
        AppHarness.Run("train", "--text", unicodeText, "--cell", "bogus").AssertError(CharPredictApp.UsageError, "bogus");
    }

    // A kill two batches after a --checkpoint-every save (step 12, in the second epoch), then --resume, ends exactly as a
    // run never interrupted: the same losses, learning rates (warm-up + cosine, stepped per batch, replayed), final and
    // best weights. Stateful runs need the carried state saved with the checkpoint.
    [TestCase("lstm", false)]
    [TestCase("lstm", true)]
    [TestCase("gru", false)]
    [TestCase("gru", true)]
    [TestCase("rnn", true)]
    public void ResumingAfterAKillFollowingACheckpointEverySaveEndsAsAnUninterruptedRun(string cell, bool stateful)
    {
        string[] args = [.. Tiny(cell, stateful), "--epochs", "2", "--checkpoint-every", "4", "--schedule", "warmup-cosine", "--warmup-steps", "5"];
        var whole = Train(args);
        var runs = AppHarness.TempFolder();

        var killed = AppHarness.Run([.. args, "--runs-dir", runs, "--abort-after-batches", "14"]);

        Assert.That(killed.ExitCode, Is.EqualTo(TrainingRunner.KilledExitCode), killed.ToString());
        var run = AppHarness.OnlyRun(runs);
        var saved = ModelCheckpoint.Read(Path.Combine(run, cell + ".safetensors")).Position;
        Assert.That((saved.Epoch, saved.Step), Is.EqualTo((1, 12)), "the --checkpoint-every save");
        Assert.That(saved.BatchInEpoch, Is.GreaterThan(0));
        Assert.That(Directory.GetFiles(run, cell + ".state.*"), stateful ? Has.Length.EqualTo(1) : Is.Empty, "the carried state beside a stateful checkpoint");

        var resumed = AppHarness.Run("train", "--resume", run);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Stdout, Does.Contain($"{cell}: resuming at epoch 2, batch {saved.BatchInEpoch + 1} (step 12)"));
        AssertSameRun(run, whole, cell);
        Directory.Delete(runs, true);
    }

    // Ctrl+C in the middle of the last epoch (a stateful run carries its state into the resumed batches; char-rnn's decay
    // after epoch 1 and ReduceLROnPlateau's after the rise of epoch 3, at a learning rate far too high, are replayed from
    // the run's history).
    [TestCase("lstm", true, "char-rnn")]
    [TestCase("gru", false, "char-rnn")]
    [TestCase("lstm", false, "plateau")]
    public void StoppingMidEpochAndResumingEndsAsAnUninterruptedRun(string cell, bool stateful, string schedule)
    {
        bool plateau = schedule == "plateau";
        string[] args = [.. Tiny(cell, stateful), "--epochs", plateau ? "4" : "3", .. plateau
            ? new[] { "--lr", "1", "--schedule", "plateau", "--lr-patience", "0", "--lr-decay", "0.5" }
            : ["--lr", "0.03", "--lr-decay", "0.5", "--lr-decay-after", "1"]];
        var whole = Train(args);
        var runs = AppHarness.TempFolder();

        var stopped = AppHarness.Run([.. args, "--runs-dir", runs, "--stop-after-batches", plateau ? "34" : "24"]);

        Assert.That(stopped.ExitCode, Is.EqualTo(CharPredictApp.Stopped), stopped.ToString());
        var run = AppHarness.OnlyRun(runs);
        var position = ModelCheckpoint.Read(Path.Combine(run, cell + ".safetensors")).Position;
        Assert.That(position.Epoch, Is.EqualTo(plateau ? 3 : 2));
        Assert.That(position.BatchInEpoch, Is.GreaterThan(0), "stopped inside the last epoch");
        var rates = History(whole, cell).Select(e => e.GetProperty("learning_rate").GetDouble()).ToArray();
        Assert.That(rates.Distinct().Count(), Is.GreaterThan(1), $"the learning rate changed before the stop, so the resume has to replay it: {string.Join(", ", rates)}");

        var resumed = AppHarness.Run("train", "--resume", run);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        AssertSameRun(run, whole, cell);
        Directory.Delete(runs, true);
    }

    [Test]
    public void BestIsTheCheckpointOfTheEpochWithTheLowestValidationLoss()
    {
        // A learning rate far too high: the validation loss falls, then rises again.
        var run = Train([.. Tiny("lstm", false), "--epochs", "5", "--lr", "1"]);

        var losses = History(run, "lstm").Select(e => e.GetProperty("val_loss").GetDouble()).ToArray();
        int bestEpoch = Array.IndexOf(losses, losses.Min()) + 1;
        Assert.That(bestEpoch, Is.LessThan(losses.Length), $"the run must rise after its best epoch for this test to mean something: {string.Join(", ", losses)}");
        var best = ModelCheckpoint.Read(Path.Combine(run, "lstm.best.safetensors"));
        Assert.That(best.Position.Epoch, Is.EqualTo(bestEpoch));
        Assert.That(Tensors(Path.Combine(run, "lstm.best.safetensors")), Is.Not.EqualTo(Tensors(Path.Combine(run, "lstm.safetensors"))));
        Assert.That(
            File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[3], CultureInfo.InvariantCulture)),
            Is.EqualTo(losses).Within(1e-6),
            "metrics.csv shows the same validation losses, rounded");
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    // The learning rate each epoch trained with, as each schedule's rule gives it (lr 0.01).
    [TestCase(new[] { "--lr-decay", "0.5", "--lr-decay-after", "2" }, new[] { 0.01, 0.01, 0.005, 0.0025 })]
    [TestCase(new[] { "--schedule", "step", "--lr-step-size", "2", "--lr-decay", "0.5" }, new[] { 0.01, 0.01, 0.005, 0.005 })]
    [TestCase(new[] { "--schedule", "exponential", "--lr-decay", "0.5" }, new[] { 0.01, 0.005, 0.0025, 0.00125 })]
    [TestCase(new[] { "--schedule", "cosine" }, new[] { 0.009999999776482582, 0.008535533715148688, 0.004999999888241291, 0.0014644660613338948 })] // ½(1 + cos(π·e/4)) of the float 0.01, e = 0..3
    [TestCase(new string[0], new[] { 0.01, 0.01, 0.01, 0.01 })]
    [TestCase(new[] { "--schedule", "warmup-cosine", "--warmup-steps", "2" }, new[] { 0.004999999888241291, 0.009330126810377605, 0.004999999888241291, 0.0006698729661049785 })] // each epoch's last batch, steps 1, 3, 5, 7 of 8, from the float 0.01
    public void EachScheduleSetsTheLearningRateItsRuleGives(string[] schedule, double[] expected)
    {
        var run = Train([.. Tiny("lstm", false), "--epochs", "4", "--max-batches", "2", "--lr", "0.01", .. schedule]);

        var rates = History(run, "lstm").Select(e => e.GetProperty("learning_rate").GetDouble()).ToArray();

        // The optimizer holds the rate as a float.
        Assert.That(rates, Is.EqualTo(expected.Select(r => (double)(float)r)).Within(1e-12));
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    [Test]
    public void LowercaseFoldsTheTextAndAFolderIsReadInSortedOrder()
    {
        var texts = Path.Combine(folder, "texts");
        Directory.CreateDirectory(texts);
        File.WriteAllText(Path.Combine(texts, "b.txt"), string.Concat(Enumerable.Repeat("Zebras Zigzag Over The Hills. ", 20)));
        File.WriteAllText(Path.Combine(texts, "a.txt"), string.Concat(Enumerable.Repeat("Alpha Beta Gamma Delta. ", 20)));
        File.WriteAllText(Path.Combine(texts, "notes.md"), "ignored: not a .txt file");
        string[] args = ["train", "--text", texts, "--model", "lstm", "--device", "cpu", "--lstm-hidden", "8", "--seq-len", "16", "--batch", "4", "--epochs", "1", "--max-batches", "1", "--sample-length", "0"];

        var cased = Train(args);
        var lowered = Train([.. args, "--lowercase"]);

        Assert.That(ModelCheckpoint.Read(Path.Combine(cased, "lstm.safetensors")).Vocabulary.Serialize(), Does.Contain("A").And.Contain("Z").And.Not.Contain(":"));
        Assert.That(ModelCheckpoint.Read(Path.Combine(lowered, "lstm.safetensors")).Vocabulary.Serialize(), Does.Not.Contain("A").And.Not.Contain("Z").And.Contain("a"));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(cased, "config.json")));
        Assert.That(
            config.RootElement.GetProperty("data").GetProperty("files").EnumerateArray().Select(f => Path.GetFileName(f.GetString())),
            Is.EqualTo(new[] { "a.txt", "b.txt" }));

        // The lowercased run's model reads its own text, capitals and all: eval and sample lowercase what they are given.
        var scored = AppHarness.Run("eval", "--checkpoint", Path.Combine(lowered, "lstm.safetensors"), "--file", texts, "--device", "cpu");
        Assert.That(scored.ExitCode, Is.EqualTo(0), scored.ToString());
        var sampled = AppHarness.Run("sample", "--checkpoint", Path.Combine(lowered, "lstm.safetensors"), "--start", "Zebras ", "--length", "5", "--device", "cpu");
        Assert.That(sampled.ExitCode, Is.EqualTo(0), sampled.ToString());
        Assert.That(sampled.Stdout, Does.StartWith("zebras "));
        var compared = AppHarness.Run("compare", "--run", lowered, "--start", "Zebras ", "--length", "5", "--temperatures", "0.5", "--device", "cpu");
        Assert.That(compared.ExitCode, Is.EqualTo(0), compared.ToString());
        Assert.That(compared.Stdout, Does.Contain("zebras "));
        AppHarness.Run("eval", "--checkpoint", Path.Combine(cased, "lstm.safetensors"), "--text", "SIR", "--device", "cpu").AssertError(CharPredictApp.Failure, "'S', 'I', 'R'");
        var asked = AppHarness.Run("eval", "--checkpoint", Path.Combine(cased, "lstm.safetensors"), "--text", "SIR", "--lowercase", "--device", "cpu");
        Assert.That(asked.ExitCode, Is.EqualTo(0), asked.ToString());
        Directory.Delete(Path.GetDirectoryName(cased)!, true);
        Directory.Delete(Path.GetDirectoryName(lowered)!, true);
    }

    [Test]
    public void TheNgramModelTrainsOnATextOfBasicPlaneCharactersAndOnATextWithEmoji()
    {
        var plain = Path.Combine(folder, "plain.txt");
        File.WriteAllText(plain, string.Concat(Enumerable.Repeat("the cat sat on the mat; 猫が好き.\n", 30)));
        string[] tiny = ["--model", "ngram", "--device", "cpu", "--ngram-hidden", "8", "--batch", "32", "--epochs", "1", "--max-batches", "3", "--sample-length", "10"];

        var run = Train(["train", "--text", plain, .. tiny]);

        var checkpoint = ModelCheckpoint.Read(Path.Combine(run, "ngram.safetensors"), ModelKind.Ngram);
        Assert.That(checkpoint.Ngrams!.Ngrams, Does.Contain("猫が好"));
        var sampled = AppHarness.Run("sample", "--checkpoint", Path.Combine(run, "ngram.safetensors"), "--start", "the", "--length", "50", "--temperature", "1", "--device", "cpu");
        Assert.That(sampled.ExitCode, Is.EqualTo(0), sampled.ToString());
        Assert.That(sampled.Stdout.TrimEnd('\n', '\r').EnumerateRunes().Distinct(), Is.SubsetOf(File.ReadAllText(plain).EnumerateRunes().Distinct()));
        Directory.Delete(Path.GetDirectoryName(run)!, true);

        // An emoji is one character of an n-gram: every n-gram is 3 characters, up to 6 UTF-16 code units.
        var emoji = Train(["train", "--text", unicodeText, .. tiny]);
        var emojiCheckpoint = ModelCheckpoint.Read(Path.Combine(emoji, "ngram.safetensors"), ModelKind.Ngram);
        Assert.That(emojiCheckpoint.Ngrams!.Ngrams.Count(g => g.EnumerateRunes().Any(r => !r.IsBmp)), Is.Positive, "n-grams with emoji");
        Assert.That(emojiCheckpoint.Ngrams!.Ngrams.Select(g => g.EnumerateRunes().Count()), Is.All.EqualTo(3));
        var fromEmoji = AppHarness.Run("sample", "--checkpoint", Path.Combine(emoji, "ngram.safetensors"), "--start", "猫😀🐈", "--length", "50", "--temperature", "1", "--device", "cpu");
        Assert.That(fromEmoji.ExitCode, Is.EqualTo(0), fromEmoji.ToString());
        var emojiSample = fromEmoji.Stdout.TrimEnd('\n', '\r');
        Assert.That(emojiSample.EnumerateRunes().Count(), Is.EqualTo(3 + 50), "the start, then 50 characters");
        Assert.That(emojiSample.EnumerateRunes().Distinct(), Is.SubsetOf(File.ReadAllText(unicodeText).EnumerateRunes().Distinct()));
        Directory.Delete(Path.GetDirectoryName(emoji)!, true);
    }

    [Test]
    public void CompareShowsAGruAndAnNgramModelOfATextScoredOnTheHeldOutText()
    {
        var run = Train([.. Tiny("gru", false).Select(a => a == "lstm" ? "both" : a), "--n", "2", "--ngram-hidden", "4", "--epochs", "1"]);

        var compared = AppHarness.Run("compare", "--run", run, "--start", "猫 ", "--length", "5", "--device", "cpu");

        Assert.That(compared.ExitCode, Is.EqualTo(0), compared.ToString());
        Assert.That(compared.Stdout, Does.Contain("GRU, epoch 1:").And.Contain("n-gram MLP, epoch 1:"));
        Assert.That(compared.Stdout, Does.Contain("bits/char on the held-out text"));
        Assert.That(compared.Stdout, Does.Not.Contain("common positions").And.Not.Contain("..99"), "a text has no fixed positions");
        var losses = File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        Assert.That(losses.Select(l => l[4]), Is.EqualTo(losses.Select(l => l[3])), "val_loss_common is val_loss_all on a text");
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    [Test]
    public void ResumingOnATextThatChangedIsOneErrorLineAndKeepsTheRun()
    {
        string text = Path.Combine(folder, "changing.txt");
        File.Copy(unicodeText, text, overwrite: true);
        string[] args = [.. Tiny("lstm", false), "--epochs", "1"];
        var run = Train([.. args.Select(a => a == unicodeText ? text : a)]);
        var checkpoint = File.ReadAllBytes(Path.Combine(run, "lstm.safetensors"));
        File.AppendAllText(text, "猫 が 好き\n");

        var resumed = AppHarness.Run("train", "--resume", run, "--epochs", "2");

        resumed.AssertError(CharPredictApp.Failure, $"{text} has changed since the run started: {File.ReadAllText(text).EnumerateRunes().Count().ToString("N0", CultureInfo.InvariantCulture)} characters now");
        Assert.That(File.ReadAllBytes(Path.Combine(run, "lstm.safetensors")), Is.EqualTo(checkpoint));
        File.AppendAllText(text, "Z");
        AppHarness.Run("train", "--resume", run, "--epochs", "2").AssertError(CharPredictApp.Failure, "gives a different vocabulary from the one the run was trained on (26 characters now, 25 then; new: 'Z')");
        Directory.Delete(Path.GetDirectoryName(run)!, true);
    }

    // A text of about 700 characters: English and Japanese words, emoji, newlines.
    private static string UnicodeText()
    {
        string[] words = ["the", "cat", "sat", "on", "a", "mat", "猫", "が", "好き", "です", "日本語", "😀", "🐈", "é", "naïve", "\n"];
        var random = new Random(7);
        var text = new StringBuilder();
        while (text.Length < 700)
        {
            text.Append(words[random.Next(words.Length)]).Append(random.Next(4) == 0 ? "\n" : " ");
        }

        return text.ToString();
    }

    // Tiny models on the unicode text: 11 batches of 4 windows of 16 characters per epoch (10 of 4 streams when stateful).
    private string[] Tiny(string cell, bool stateful) =>
    [
        "train", "--text", unicodeText, "--model", "lstm", "--cell", cell, "--device", "cpu", "--threads", "2", "--lstm-hidden", "12", "--lstm-layers", "2",
        "--lstm-dropout", "0.2", "--seq-len", "16", "--batch", "4", "--sample-length", "12", .. (stateful ? new[] { "--stateful" } : []),
    ];

    // Trains into a new runs folder and returns the run.
    private static string Train(string[] args)
    {
        var runs = AppHarness.TempFolder();
        var result = AppHarness.Run([.. args, "--runs-dir", runs]);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        return AppHarness.OnlyRun(runs);
    }

    private static void AssertSameRun(string run, string whole, string cell)
    {
        Assert.Multiple(() =>
        {
            Assert.That(LossColumns(run), Is.EqualTo(LossColumns(whole)), "metrics.csv");
            Assert.That(File.ReadAllText(Path.Combine(run, cell + ".history.json")), Is.EqualTo(File.ReadAllText(Path.Combine(whole, cell + ".history.json"))), "exact validation losses and learning rates");
            Assert.That(Tensors(Path.Combine(run, cell + ".safetensors")), Is.EqualTo(Tensors(Path.Combine(whole, cell + ".safetensors"))), "final weights, bit for bit");
            Assert.That(Tensors(Path.Combine(run, cell + ".best.safetensors")), Is.EqualTo(Tensors(Path.Combine(whole, cell + ".best.safetensors"))), "best weights");
            Assert.That(Directory.GetFiles(run, "*.state.*").Concat(Directory.GetFiles(run, "*.partial-epoch.json")), Is.Empty, "nothing of the interrupted epoch is left");
        });
        Directory.Delete(Path.GetDirectoryName(whole)!, true);
    }

    private static Dictionary<string, float[]> Tensors(string path) => SafeTensorsFile.Read(path).Tensors.ToDictionary(t => t.Key, t => t.Value.Data);

    private static JsonElement[] History(string run, string model)
    {
        using var history = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, model + ".history.json")));
        return [.. history.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    // model, epoch and the loss columns of metrics.csv (throughput and time differ run to run).
    private static string[] LossColumns(string run)
        => [.. File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..6]))];
}
