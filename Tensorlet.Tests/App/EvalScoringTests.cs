using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Samples.CharPredict;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

/// <summary>
/// <c>eval</c> scores a text in chunks (<see cref="LoadedModel.Score"/>: the recurrent model through the library's
/// <see cref="Evaluator.LogProbabilities"/>, the state carried from chunk to chunk; or a fixed number of n-gram windows
/// per pass), so that a whole file takes one chunk's device memory. The
/// chunks must give what one pass over the whole text gives; and <c>eval --file</c> what <c>eval --text</c> gives for
/// the same text.
/// </summary>
public sealed class EvalScoringTests
{
    // Two and a half chunks of the recurrent models.
    private static readonly string Text = MakeText(2 * Evaluator.ChunkSteps + (Evaluator.ChunkSteps / 2) + 7);

    [TestCase("lstm")]
    [TestCase("gru")]
    [TestCase("rnn")]
    public void ARecurrentModelScoresInChunksWhatOnePassGives(string cell)
    {
        var device = TestDevices.Get("cpu");
        var vocabulary = CharVocabulary.FromTexts([Text]);
        var ids = vocabulary.Encode(Text);
        using var loaded = new LoadedModel(
            cell switch
            {
                "lstm" => new LstmCharModel(device, vocabulary.Count, 8, 2, 0.3f, seed: 4),
                "gru" => new GruCharModel(device, vocabulary.Count, 8, 2, 0.3f, seed: 4),
                _ => new ElmanCharModel(device, vocabulary.Count, 8, 2, 0.3f, seed: 4),
            },
            vocabulary,
            null);

        var (positions, logProbabilities, skipped) = loaded.Score(Text);

        // One pass: all steps of the one sequence in a single forward call.
        using var inputs = device.IndexFromArray(ids[..^1], ids.Length - 1);
        using var targets = device.IndexFromArray(ids[1..], ids.Length - 1);
        var onePass = loaded.Model.ForwardLoss(inputs, targets, 1, training: false, step: 0).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(positions, Is.EqualTo(Enumerable.Range(1, ids.Length - 1)));
            Assert.That(skipped, Is.Zero);
            Assert.That(logProbabilities, Is.EqualTo(onePass.Select(l => -(double)l)).Within(1e-5), "chunked against one pass");
            Assert.That(((RnnCharModel)loaded.Model).CarryState, Is.False, "the model is left as it was");
        });
    }

    [Test]
    public void TheNgramModelScoresInChunksWhatOnePassGives()
    {
        var device = TestDevices.Get("cpu");
        var text = MakeText(LoadedModel.ChunkWindows + 1000);
        var vocabulary = CharVocabulary.FromTexts([text]);
        var ngrams = NgramVocabulary.FromSequences([text[..(text.Length / 2)]], 3, windowsPerSequence: null);
        using var loaded = new LoadedModel(new NgramMlp(device, ngrams.Count, vocabulary.Count, 16, Activation.Relu, seed: 4), vocabulary, ngrams);

        var (positions, logProbabilities, skipped) = loaded.Score(text);

        var windows = NgramDataset.Create([text], vocabulary, ngrams, windowsPerSequence: null);
        Assert.That(windows.Count, Is.GreaterThan(LoadedModel.ChunkWindows), "more windows than one chunk");
        using var inputs = device.IndexFromArray(windows.Inputs, windows.Count);
        using var targets = device.IndexFromArray(windows.Targets, windows.Count);
        var onePass = loaded.Model.ForwardLoss(inputs, targets, windows.Count, training: false, step: 0).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(positions, Is.EqualTo(windows.Positions));
            Assert.That(skipped, Is.EqualTo(windows.SkippedWindows));
            Assert.That(logProbabilities, Is.EqualTo(onePass.Select(l => -(double)l)).Within(1e-6), "chunked against one pass");
        });
    }

    [Test]
    public void EvalOfAFileGivesWhatEvalOfTheSameTextGives()
    {
        var folder = AppHarness.TempFolder();
        try
        {
            // A model trained for one batch on the text, then the text scored both ways.
            var textPath = Path.Combine(folder, "text.txt");
            File.WriteAllText(textPath, Text);
            var runs = Path.Combine(folder, "runs");
            var train = AppHarness.Run(
                "train", "--text", textPath, "--model", "lstm", "--lstm-hidden", "8", "--lstm-layers", "2", "--batch", "4", "--epochs", "1",
                "--max-batches", "1", "--sample-length", "10", "--device", "cpu", "--runs-dir", runs);
            Assert.That(train.ExitCode, Is.EqualTo(0), train.ToString());
            var checkpoint = Path.Combine(AppHarness.OnlyRun(runs), "lstm.safetensors");

            var fromFile = AppHarness.Run("eval", "--checkpoint", checkpoint, "--file", textPath, "--device", "cpu");
            var fromText = AppHarness.Run("eval", "--checkpoint", checkpoint, "--text", Text, "--device", "cpu");

            Assert.That(fromFile.ExitCode, Is.EqualTo(0), fromFile.ToString());
            Assert.That(fromFile.Stdout, Does.Contain($"characters scored: {Text.Length - 1} of {Text.Length}"));
            Assert.That(fromFile.Stdout, Is.EqualTo(fromText.Stdout));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [TestCase]
    [TestCase("--text", "the cat", "--file", "text.txt")]
    public void EvalTakesExactlyOneOfTextAndFile(params string[] args)
    {
        AppHarness.Run(["eval", "--checkpoint", "x.safetensors", .. args]).AssertError(2, "Give the text to score with --text TEXT or --file PATH (one of them).");
    }

    // Words of a small alphabet in a fixed pseudo-random order, so most 3-grams of the second half occur in the first.
    private static string MakeText(int length)
    {
        string[] words = ["the ", "cat ", "sat ", "on ", "a ", "mat. ", "dog ", "ran ", "to ", "it, "];
        var rng = new Random(11);
        var text = new System.Text.StringBuilder();
        while (text.Length < length)
        {
            text.Append(words[rng.Next(words.Length)]);
        }

        return text.ToString(0, length);
    }
}
