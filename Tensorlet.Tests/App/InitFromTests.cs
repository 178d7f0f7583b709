using System.Text;
using System.Text.Json;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary>
/// <c>train --init-from</c> (char-rnn's <c>-init_from</c>): a recurrent model goes on training on a new text from a
/// checkpoint's weights, cell, sizes and vocabulary, with a fresh optimizer; the run resumes like any other, and a text
/// or option that does not fit the checkpoint gets one line.
/// </summary>
public sealed class InitFromTests
{
    private string folder = "";
    private string pretrainText = "";
    private string newText = "";

    [OneTimeSetUp]
    public void WriteTexts()
    {
        folder = AppHarness.TempFolder();
        pretrainText = Path.Combine(folder, "pretrain.txt");
        newText = Path.Combine(folder, "new.txt");
        File.WriteAllText(pretrainText, Words(["The", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "!", "\n"], seed: 1), new UTF8Encoding(false));
        File.WriteAllText(newText, Words(["the", "dog", "sat", "on", "a", "cat"], seed: 2), new UTF8Encoding(false));
    }

    [OneTimeTearDown]
    public void DeleteTexts() => Directory.Delete(folder, recursive: true);

    [TestCase("lstm")]
    [TestCase("gru")]
    [TestCase("rnn")]
    public void TrainingStartsFromTheCheckpointsWeightsVocabularyAndSizesWithAFreshOptimizer(string cell)
    {
        var pretrained = Pretrain(cell);
        string init = Path.Combine(pretrained, cell + ".safetensors");
        var source = ModelCheckpoint.Read(init);

        // A learning rate of 1e-12 moves no weight by more than about 1e-12 in one Adam step.
        var run = Train(["train", "--init-from", init, "--text", newText, "--device", "cpu", "--seq-len", "16", "--batch", "4", "--epochs", "1", "--max-batches", "1", "--lr", "1e-12", "--sample-length", "0"]);

        var tuned = ModelCheckpoint.Read(Path.Combine(run, cell + ".safetensors"));
        Assert.That(Path.GetFileName(run), Does.EndWith("-" + cell));
        Assert.That(tuned.Spec, Is.EqualTo(source.Spec), "cell, sizes and dropout are the checkpoint's");
        Assert.That(tuned.Vocabulary, Is.EqualTo(source.Vocabulary), "the checkpoint's vocabulary, though the new text uses fewer characters");
        Assert.That(tuned.Vocabulary.Count, Is.GreaterThan(File.ReadAllText(newText).Distinct().Count()));
        Assert.That(tuned.Position.Step, Is.EqualTo(1), "a fresh optimizer: step 1, not the checkpoint's step + 1");
        var before = Tensors(init);
        var after = Tensors(Path.Combine(run, cell + ".safetensors"));
        Assert.That(after.Keys, Is.EquivalentTo(before.Keys));
        foreach (var (name, weights) in before)
        {
            Assert.That(after[name], Is.EqualTo(weights).Within(1e-6f), name);
        }

        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json")));
        var settings = config.RootElement.GetProperty("settings");
        Assert.That(settings.GetProperty("init_from").GetString(), Is.EqualTo(init));
        Assert.That(settings.GetProperty("model").GetString(), Is.EqualTo("lstm"), "the recurrent model only");
        Assert.That(settings.GetProperty("lstm_hidden").GetInt32(), Is.EqualTo(12));
        Directory.Delete(Path.GetDirectoryName(run)!, true);
        Directory.Delete(Path.GetDirectoryName(pretrained)!, true);
    }

    [Test]
    public void ADropoutGivenReplacesTheCheckpointsAndTheModelGoesOnLearning()
    {
        var pretrained = Pretrain("lstm");
        string init = Path.Combine(pretrained, "lstm.safetensors");

        var run = Train(["train", "--init-from", init, "--text", newText, "--lstm-dropout", "0", "--device", "cpu", "--seq-len", "16", "--batch", "4", "--epochs", "3", "--lr", "0.01", "--sample-length", "0"]);

        Assert.That(ModelCheckpoint.Read(Path.Combine(run, "lstm.safetensors")).Spec.Dropout, Is.Zero);
        var validation = File.ReadAllLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(l => double.Parse(l.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.That(validation, Has.Length.EqualTo(3));
        Assert.That(validation[^1], Is.LessThan(validation[0]), "the validation loss on the new text falls");
        Directory.Delete(Path.GetDirectoryName(run)!, true);
        Directory.Delete(Path.GetDirectoryName(pretrained)!, true);
    }

    // Killed before its first save, the run starts again from the --init-from file; killed after one, it resumes from
    // its own checkpoint and needs the file no more (the vocabulary is in its config.json). Both end as the run never
    // interrupted.
    [TestCase(1, false)]
    [TestCase(5, true)]
    public void AnInterruptedRunResumesAsAnUninterruptedOne(int abortAfter, bool deleteInitFile)
    {
        var pretrained = Pretrain("lstm");
        string init = Path.Combine(folder, $"init-{abortAfter}.safetensors");
        File.Copy(Path.Combine(pretrained, "lstm.safetensors"), init);
        string[] args = ["train", "--init-from", init, "--text", newText, "--device", "cpu", "--seq-len", "16", "--batch", "4", "--epochs", "2", "--checkpoint-every", "4", "--sample-length", "8"];
        var whole = Train(args);
        var runs = AppHarness.TempFolder();

        var killed = AppHarness.Run([.. args, "--runs-dir", runs, "--abort-after-batches", abortAfter.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

        Assert.That(killed.ExitCode, Is.EqualTo(TrainingRunner.KilledExitCode), killed.ToString());
        var run = AppHarness.OnlyRun(runs);
        Assert.That(File.Exists(Path.Combine(run, "lstm.safetensors")), Is.EqualTo(deleteInitFile), "a checkpoint only after the save at step 4");
        if (deleteInitFile)
        {
            File.Delete(init);
        }

        var resumed = AppHarness.Run("train", "--resume", run);

        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(Path.Combine(run, "lstm.history.json")), Is.EqualTo(File.ReadAllText(Path.Combine(whole, "lstm.history.json"))), "exact validation losses");
            Assert.That(Tensors(Path.Combine(run, "lstm.safetensors")), Is.EqualTo(Tensors(Path.Combine(whole, "lstm.safetensors"))), "final weights, bit for bit");
        });
        File.Delete(init);
        Directory.Delete(runs, true);
        Directory.Delete(Path.GetDirectoryName(whole)!, true);
        Directory.Delete(Path.GetDirectoryName(pretrained)!, true);
    }

    [Test]
    public void ATextOrOptionThatDoesNotFitTheCheckpointIsOneLineAndMakesNoRunFolder()
    {
        var pretrained = Pretrain("lstm");
        string init = Path.Combine(pretrained, "lstm.safetensors");
        string odd = Path.Combine(folder, "odd.txt");
        File.WriteAllText(odd, "the cat sat on a mat ~~ é\n", new UTF8Encoding(false));
        var runs = AppHarness.TempFolder();
        string[] Args(params string[] more) => ["train", "--init-from", init, "--runs-dir", runs, "--device", "cpu", .. more];

        AppHarness.Run(Args("--text", odd)).AssertError(CharPredictApp.Failure, $"{odd} has 2 characters that the vocabulary of");
        AppHarness.Run(Args("--text", odd)).AssertError(CharPredictApp.Failure, "'~' ×2, 'é' ×1");
        AppHarness.Run(["train", "--init-from", pretrained, "--text", newText, "--runs-dir", runs]).AssertError(CharPredictApp.Failure, "--init-from takes a checkpoint file");
        AppHarness.Run(["train", "--init-from", Path.Combine(pretrained, "metrics.csv"), "--text", newText, "--runs-dir", runs]).AssertError(CharPredictApp.Failure, "metrics.csv is truncated or not a safetensors file");
        AppHarness.Run(Args("--text", newText, "--lstm-hidden", "64")).AssertError(CharPredictApp.UsageError, "--lstm-hidden comes from the --init-from checkpoint");
        AppHarness.Run(Args("--text", newText, "--cell", "gru", "--lstm-layers", "1")).AssertError(CharPredictApp.UsageError, "--cell, --lstm-layers come from the --init-from checkpoint");
        AppHarness.Run(Args("--text", newText, "--model", "ngram")).AssertError(CharPredictApp.UsageError, "--model ngram does not go with it");

        var ngramRun = Train(["train", "--text", pretrainText, "--model", "ngram", "--ngram-hidden", "4", "--device", "cpu", "--epochs", "1", "--max-batches", "1", "--sample-length", "0"]);
        AppHarness.Run(["train", "--init-from", Path.Combine(ngramRun, "ngram.safetensors"), "--text", newText, "--runs-dir", runs]).AssertError(CharPredictApp.Failure, "holds an n-gram model");
        Assert.That(Directory.GetFileSystemEntries(runs), Is.Empty, "no run folder");
        Directory.Delete(runs, true);
        Directory.Delete(Path.GetDirectoryName(ngramRun)!, true);
        Directory.Delete(Path.GetDirectoryName(pretrained)!, true);
    }

    // A model of the 20 Newsgroups slice goes on training on a text of its characters; a text model's vocabulary lacks
    // some of the corpus's.
    [Test]
    public void ANewsgroupsModelTrainsOnATextOfItsCharactersAndTheCorpusMustFitATextModel()
    {
        string init = Path.Combine(AppHarness.SharedRun, "lstm.safetensors");
        string lower = Path.Combine(folder, "lower.txt");
        File.WriteAllText(lower, Words(["the", "cat", "sat", "on", "a", "mat"], seed: 3, newlines: false), new UTF8Encoding(false));

        var run = Train(["train", "--init-from", init, "--text", lower, "--device", "cpu", "--seq-len", "16", "--batch", "4", "--epochs", "1", "--max-batches", "2", "--sample-length", "0"]);

        Assert.That(ModelCheckpoint.Read(Path.Combine(run, "lstm.safetensors")).Vocabulary, Is.EqualTo(ModelCheckpoint.Read(init).Vocabulary));
        var pretrained = Pretrain("lstm");
        var runs = AppHarness.TempFolder();
        AppHarness.Run(["train", "--init-from", Path.Combine(pretrained, "lstm.safetensors"), "--runs-dir", runs, "--device", "cpu", .. AppHarness.DataArgs])
            .AssertError(CharPredictApp.Failure, "has characters that the vocabulary of");
        Assert.That(Directory.GetFileSystemEntries(runs), Is.Empty, "no run folder");
        Directory.Delete(runs, true);
        Directory.Delete(Path.GetDirectoryName(run)!, true);
        Directory.Delete(Path.GetDirectoryName(pretrained)!, true);
    }

    // The Data line counts the characters the data has, not the model's vocabulary, which it names beside them.
    [Test]
    public void TheDataLineCountsTheNewDatasCharactersAndNamesTheModelsVocabulary()
    {
        var pretrained = Pretrain("lstm");
        string init = Path.Combine(pretrained, "lstm.safetensors");
        int modelCharacters = ModelCheckpoint.Read(init).Vocabulary.Count;
        int textCharacters = File.ReadAllText(newText).Distinct().Count();
        Assert.That(textCharacters, Is.LessThan(modelCharacters), "the new text uses only some of the model's characters");
        var runs = AppHarness.TempFolder();

        var result = AppHarness.Run("train", "--init-from", init, "--text", newText, "--runs-dir", runs, "--device", "cpu", "--seq-len", "16", "--batch", "4", "--epochs", "1", "--max-batches", "1", "--sample-length", "0");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain($"validation, the last), {textCharacters} distinct (of the --init-from model's {modelCharacters})"));

        // A model whose vocabulary holds the corpus's 32 characters, a capital and a newline, on the 20 Newsgroups slice.
        string wide = Path.Combine(folder, "wide.txt");
        File.WriteAllText(wide, string.Concat(Enumerable.Repeat("abcdefghijklmnopqrstuvwxyz !,.;?Z\n", 30)), new UTF8Encoding(false));
        var widePretrained = Train(["train", "--text", wide, "--model", "lstm", "--device", "cpu", "--lstm-hidden", "4", "--lstm-layers", "1", "--seq-len", "16", "--batch", "4", "--epochs", "1", "--max-batches", "1", "--sample-length", "0"]);
        var corpusRun = AppHarness.Run(["train", "--init-from", Path.Combine(widePretrained, "lstm.safetensors"), "--runs-dir", runs, "--device", "cpu", "--batch", "50", "--epochs", "1", "--max-batches", "1", "--sample-length", "0", .. AppHarness.DataArgs]);

        Assert.That(corpusRun.ExitCode, Is.EqualTo(0), corpusRun.ToString());
        var data = AppHarness.Run(["data", .. AppHarness.DataArgs]);
        int corpusCharacters = int.Parse(System.Text.RegularExpressions.Regex.Match(data.Stdout, @"vocabulary: (\d+) characters").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int wideCharacters = ModelCheckpoint.Read(Path.Combine(widePretrained, "lstm.safetensors")).Vocabulary.Count;
        Assert.That(corpusRun.Stdout, Does.Contain($"validation), {corpusCharacters} characters (of the --init-from model's {wideCharacters})"));
        Directory.Delete(runs, true);
        Directory.Delete(Path.GetDirectoryName(widePretrained)!, true);
        Directory.Delete(Path.GetDirectoryName(pretrained)!, true);
    }

    // A tiny model of the pretraining text, one short epoch; returns its run folder.
    private string Pretrain(string cell) => Train(
    [
        "train", "--text", pretrainText, "--model", "lstm", "--cell", cell, "--device", "cpu", "--lstm-hidden", "12", "--lstm-layers", "2",
        "--lstm-dropout", "0.2", "--seq-len", "16", "--batch", "4", "--epochs", "1", "--max-batches", "3", "--sample-length", "0",
    ]);

    // Trains into a new runs folder and returns the run.
    private static string Train(string[] args)
    {
        var runs = AppHarness.TempFolder();
        var result = AppHarness.Run([.. args, "--runs-dir", runs]);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        return AppHarness.OnlyRun(runs);
    }

    private static Dictionary<string, float[]> Tensors(string path) => SafeTensorsFile.Read(path).Tensors.ToDictionary(t => t.Key, t => t.Value.Data);

    // About 800 characters of the given words, separated by spaces (and newlines, unless told not to).
    private static string Words(string[] words, int seed, bool newlines = true)
    {
        var random = new Random(seed);
        var text = new StringBuilder();
        while (text.Length < 800)
        {
            text.Append(words[random.Next(words.Length)]).Append(newlines && random.Next(5) == 0 ? "\n" : " ");
        }

        return text.ToString();
    }
}
