using System.Globalization;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Tensorlet.Tests.App;

public sealed partial class SampleEvalCompareTests
{
    [TestCase("lstm")]
    [TestCase("ngram")]
    public void SampleWritesTheStartAndLengthNewCharactersReproducibly(string model)
    {
        string[] args = ["sample", "--checkpoint", Path.Combine(AppHarness.SharedRun, model + ".safetensors"), "--start", "the ", "--length", "50", "--temperature", "0.5", "--seed", "7", "--device", "cpu"];

        var first = AppHarness.Run(args);
        var second = AppHarness.Run(args);

        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        var text = first.Stdout.TrimEnd('\n', '\r');
        Assert.That(text, Does.StartWith("the "));
        Assert.That(text, Has.Length.EqualTo(54));
        Assert.That(second.Stdout, Is.EqualTo(first.Stdout), "the same seed gives the same text");
    }

    [TestCase("lstm", 10)]
    [TestCase("ngram", 8)]
    public void EvalPrintsTheLossInNatsAndBitsAndEachCharactersLogProbability(string model, int predicted)
    {
        var result = AppHarness.Run("eval", "--checkpoint", Path.Combine(AppHarness.SharedRun, model + ".safetensors"), "--text", "the cat sa", "--per-char", "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        var perChar = PerCharLine().Matches(result.Stdout);
        // The LSTM predicts characters 1..9, the n-gram model (n=3) characters 3..9.
        Assert.That(perChar, Has.Count.EqualTo(predicted - 1));
        double sum = perChar.Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        double loss = double.Parse(Loss().Match(result.Stdout).Groups[1].Value, CultureInfo.InvariantCulture);
        double bits = double.Parse(Bits().Match(result.Stdout).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.That(loss, Is.EqualTo(-sum / perChar.Count).Within(1e-5));
        Assert.That(bits, Is.EqualTo(loss / Math.Log(2)).Within(1e-5));
        Assert.That(loss, Is.InRange(0.5, 6.0), "a barely trained model is near ln 32 ≈ 3.47");
    }

    [Test]
    public void CompareShowsBothModelsAtEachTemperatureWithTheirBitsPerCharacter()
    {
        var result = AppHarness.Run("compare", "--run", AppHarness.SharedRun, "--start", "the ", "--temperatures", "0.1,0.5,1.0", "--length", "40", "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("temperature"));
        Assert.That(result.Stdout, Does.Match(@"n-gram MLP, epoch 2: \d\.\d{3} bits/char on validation \(positions 3\.\.99\)"));
        Assert.That(result.Stdout, Does.Match(@"LSTM, epoch 2: \d\.\d{3} bits/char"));
        foreach (var t in new[] { "0.1", "0.5", "1" })
        {
            Assert.That(result.Stdout, Does.Match(@"│\s+" + Regex.Escape(t) + @" │"), $"a row for temperature {t}");
        }
    }

    [Test]
    public void CompareShowsTheGruOfANewsgroupsRunWithItsCommonPositions()
    {
        // compare took every model that was not an LSTM for the n-gram model, and crashed on the GRU's missing n-grams.
        var runs = AppHarness.TempFolder();
        var trained = AppHarness.Run(["train", "--model", "both", "--cell", "gru", "--epochs", "1", "--runs-dir", runs, .. AppHarness.TinyTrainArgs]);
        Assert.That(trained.ExitCode, Is.EqualTo(0), trained.ToString());

        var result = AppHarness.Run("compare", "--run", AppHarness.OnlyRun(runs), "--length", "20", "--temperatures", "0.5", "--device", "cpu");

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Match(@"GRU, epoch 1: \d\.\d{3} bits/char on validation \(common positions: \d\.\d{3}\)"));
        Assert.That(result.Stdout, Does.Match(@"n-gram MLP, epoch 1: \d\.\d{3} bits/char on validation \(positions 3\.\.99\)"));
        Directory.Delete(runs, true);
    }

    [GeneratedRegex(@"^\d+\t'.'\t(-?\d+\.\d+)$", RegexOptions.Multiline)]
    private static partial Regex PerCharLine();

    [GeneratedRegex(@"loss: (\d+\.\d+) nats per character")]
    private static partial Regex Loss();

    [GeneratedRegex(@"bits per character: (\d+\.\d+)")]
    private static partial Regex Bits();
}
