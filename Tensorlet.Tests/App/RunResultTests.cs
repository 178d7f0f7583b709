using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Modeling;
using Tensorlet.Samples.CharPredict;
using Tensorlet.Tests.Infrastructure;
using Tensorlet.Tests.Models;

namespace Tensorlet.Tests.App;

/// <summary>
/// What a train run reports is what it trained: the validation losses metrics.csv gives for the last epoch are those of
/// the checkpoints the run saved, recomputed here in float64 by the tests' reference models (none of the app's or the
/// library's forward code) on the validation sequences the run used; eval prints, and sample at temperature 0 writes, what
/// those models compute. A run that saved other weights than it scored, scored the wrong positions or sequences, or
/// trained nothing, fails, as do an eval or a sample that reads the wrong weights or positions.
/// </summary>
public sealed partial class RunResultTests
{
    // metrics.csv holds 6 decimals; the app's losses are float32 means over ~3,000 characters (docs/design.md: float32
    // models against float64 references, 1e-5 relative on the loss).
    private const double Tolerance = 1e-5;

    [Test]
    [CancelAfter(120_000)]
    public void TheLastEpochsValidationLossesAreThoseOfTheSavedCheckpoints()
    {
        var run = AppHarness.SharedRun;
        var data = CorpusData.Load(new AppConsole(TextWriter.Null, TextWriter.Null, interactive: false), TestData.CorpusArchive, AppHarness.Sequences, validationFraction: 0.1);
        var rows = MetricsRow.ReadAll(Path.Combine(run, "metrics.csv"));
        var lstmRow = rows.Single(r => r.Model == "lstm" && r.Epoch == 2);
        var ngramRow = rows.Single(r => r.Model == "ngram" && r.Epoch == 2);

        var (lstmAll, lstmCommon) = LstmValidationLoss(Path.Combine(run, "lstm.safetensors"), data.ValidationSequences, ngramOrder: 3);
        double ngramLoss = NgramValidationLoss(Path.Combine(run, "ngram.safetensors"), data.ValidationSequences);

        Assert.That(lstmRow.ValLossAll, Is.EqualTo(lstmAll).Within(Tolerance * lstmAll), "lstm val_loss_all: positions 1..99 of every validation sequence");
        Assert.That(lstmRow.ValLossCommon, Is.EqualTo(lstmCommon).Within(Tolerance * lstmCommon), "lstm val_loss_common: positions 3..99");
        Assert.That(ngramRow.ValLossAll, Is.EqualTo(ngramLoss).Within(Tolerance * ngramLoss), "ngram val_loss_all: every window's target, positions 3..99");


        // Trained: the 3 steps of epoch 2 lowered both validation losses (by about 0.005 and 0.017 nats on this slice).
        foreach (var model in new[] { "ngram", "lstm" })
        {
            var (first, second) = (rows.Single(r => r.Model == model && r.Epoch == 1), rows.Single(r => r.Model == model && r.Epoch == 2));
            Assert.That(second.ValLossAll, Is.LessThan(first.ValLossAll - 1e-3), $"{model}: validation loss after epoch 2 below epoch 1's");
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public void EvalPrintsTheSavedLstmsLogProbabilityOfEachCharacter()
    {
        const string text = "the cat sat on";
        var path = Path.Combine(AppHarness.SharedRun, "lstm.safetensors");

        var result = AppHarness.Run("eval", "--checkpoint", path, "--text", text, "--per-char", "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(CharPredictApp.Success), result.ToString());
        var reference = Reference(path);
        var perPosition = new double[1, text.Length - 1];
        reference.Model.Loss(Row(reference.Vocabulary.Encode(text)[..^1]), Row(reference.Vocabulary.Encode(text)[1..]), perPosition: perPosition);
        var printed = result.Stdout.Split('\n').Where(l => l.Length > 0 && char.IsAsciiDigit(l[0])).ToArray();
        Assert.That(printed, Has.Length.EqualTo(text.Length - 1), result.Stdout);
        for (int i = 0; i < printed.Length; i++)
        {
            // Six printed decimals of a float32 log-probability: the last digit may differ from float64's by one.
            var fields = printed[i].Split('\t');
            Assert.That(fields[..2], Is.EqualTo(new[] { (i + 1).ToString(CultureInfo.InvariantCulture), $"'{text[i + 1]}'" }), printed[i]);
            Assert.That(double.Parse(fields[2], CultureInfo.InvariantCulture), Is.EqualTo(-perPosition[0, i]).Within(2e-6), printed[i]);
        }

        double mean = Enumerable.Range(0, text.Length - 1).Average(i => perPosition[0, i]);
        Assert.That(result.Stdout, Does.Contain(string.Create(CultureInfo.InvariantCulture, $"characters scored: {text.Length - 1} of {text.Length}")));
        Assert.That(double.Parse(LossLine().Match(result.Stdout).Groups[1].Value, CultureInfo.InvariantCulture), Is.EqualTo(mean).Within(2e-6));
    }

    [Test]
    [CancelAfter(120_000)]
    public void SampleAtTemperatureZeroWritesTheSavedLstmsMostLikelyCharacters()
    {
        const string start = "the ";
        const int length = 30;
        var path = Path.Combine(AppHarness.SharedRun, "lstm.safetensors");

        var result = AppHarness.Run("sample", "--checkpoint", path, "--start", start, "--length", length.ToString(CultureInfo.InvariantCulture), "--temperature", "0", "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(CharPredictApp.Success), result.ToString());
        Assert.That(result.Stdout, Does.EndWith("\n"));
        var written = result.Stdout.TrimEnd('\n');
        Assert.That(written, Has.Length.EqualTo(start.Length + length));

        // Greedy decoding in float64: each next character is the argmax of the reference's logits after the text so far.
        // Where the best two are within 1e-4 nats, float32 may pick either, so the comparison ends there.
        var reference = Reference(path);
        var text = start;
        while (text.Length < start.Length + length)
        {
            var (best, margin) = reference.Next(text);
            if (margin < 1e-4)
            {
                break;
            }

            text += best;
        }

        Assert.That(text.Length, Is.GreaterThan(start.Length + 10), "at least ten clear choices to compare");
        Assert.That(written[..text.Length], Is.EqualTo(text));
    }

    // The float64 reference of a saved LSTM, and its vocabulary.
    private static LstmReference Reference(string path)
    {
        var checkpoint = ModelCheckpoint.Read(path, ModelKind.Lstm);
        var spec = checkpoint.Spec;
        var model = new ReferenceLstmModel(spec.CharVocabularySize, spec.HiddenSize, spec.NumLayers);
        LoadInto(model.Parameters, checkpoint);
        return new LstmReference(model, checkpoint.Vocabulary);
    }

    private static int[,] Row(int[] values)
    {
        var row = new int[1, values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            row[0, i] = values[i];
        }

        return row;
    }

    [GeneratedRegex(@"loss: (\d+\.\d+) nats per character")]
    private static partial Regex LossLine();

    private sealed record LstmReference(ReferenceLstmModel Model, Tensorlet.Models.Data.CharVocabulary Vocabulary)
    {
        // The most likely next character after text, and its lead over the second in nats (the reference scores every
        // candidate as the target of the last position: the smallest cross-entropy is the largest logit).
        public (char Best, double Margin) Next(string text)
        {
            var ids = Vocabulary.Encode(text);
            var losses = new double[Vocabulary.Count];
            var perPosition = new double[1, ids.Length];
            for (int v = 0; v < Vocabulary.Count; v++)
            {
                int[] targets = [.. ids[1..], v];
                Model.Loss(Row(ids), Row(targets), perPosition: perPosition);
                losses[v] = perPosition[0, ids.Length - 1];
            }

            var order = Enumerable.Range(0, losses.Length).OrderBy(v => losses[v]).ToArray();
            return (Vocabulary[order[0]], losses[order[1]] - losses[order[0]]);
        }
    }

    // The mean cross-entropy over positions 1..99 and over positions ngramOrder..99 (eval mode: no dropout).
    private static (double All, double Common) LstmValidationLoss(string path, string[] sequences, int ngramOrder)
    {
        var checkpoint = ModelCheckpoint.Read(path, ModelKind.Lstm);
        var spec = checkpoint.Spec;
        var reference = new ReferenceLstmModel(spec.CharVocabularySize, spec.HiddenSize, spec.NumLayers);
        LoadInto(reference.Parameters, checkpoint);
        int t = sequences[0].Length - 1;
        var inputs = new int[sequences.Length, t];
        var targets = new int[sequences.Length, t];
        for (int n = 0; n < sequences.Length; n++)
        {
            var ids = checkpoint.Vocabulary.Encode(sequences[n]);
            for (int s = 0; s < t; s++)
            {
                (inputs[n, s], targets[n, s]) = (ids[s], ids[s + 1]);
            }
        }

        var perPosition = new double[sequences.Length, t];
        reference.Loss(inputs, targets, perPosition: perPosition);
        double all = 0, common = 0;
        int commonCount = 0;
        for (int n = 0; n < sequences.Length; n++)
        {
            for (int s = 0; s < t; s++)
            {
                all += perPosition[n, s];
                if (s + 1 >= ngramOrder)
                {
                    common += perPosition[n, s];
                    commonCount++;
                }
            }
        }

        return (all / perPosition.Length, common / commonCount);
    }

    // The mean cross-entropy over every window i = 0..99-n of the sequences with a known context: context i..i+n-1, target i+n.
    private static double NgramValidationLoss(string path, string[] sequences)
    {
        var checkpoint = ModelCheckpoint.Read(path, ModelKind.Ngram);
        var spec = checkpoint.Spec;
        var ngrams = checkpoint.Ngrams!;
        var reference = new ReferenceNgramMlp(ngrams.Count, spec.CharVocabularySize, spec.HiddenSize, spec.Activation);
        LoadInto(reference.Parameters, checkpoint);
        var inputs = new List<int>();
        var targets = new List<int>();
        foreach (var sequence in sequences)
        {
            var ids = checkpoint.Vocabulary.Encode(sequence);
            for (int i = 0; i + spec.NgramOrder < sequence.Length; i++)
            {
                // A context outside the n-gram vocabulary has no input row: the model cannot score it (docs/app.md).
                int ngram = ngrams.IndexOf(sequence.AsSpan(i, spec.NgramOrder));
                if (ngram < 0)
                {
                    continue;
                }

                inputs.Add(ngram);
                targets.Add(ids[i + spec.NgramOrder]);
            }
        }

        return reference.Loss([.. inputs], [.. targets]);
    }

    private static void LoadInto(Dictionary<string, double[]> parameters, ModelCheckpoint checkpoint)
    {
        using var model = checkpoint.CreateModel(TestDevices.Get("cpu"));
        foreach (var p in model.Parameters.Parameters)
        {
            parameters[p.Name] = Array.ConvertAll(p.Value.ToArray(), v => (double)v);
        }
    }
}
