using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

public sealed class SamplingTests
{
    private static readonly CharVocabulary Characters = CharVocabulary.FromTexts(["abcdefg "]);

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void CarriedStateGivesTheSameDistributionAsRerunningThePrefix(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var lstm = new LstmCharModel(device, Characters.Count, 6, 2, dropout: 0.5f, seed: 3);
        using var gru = new GruCharModel(device, Characters.Count, 6, 2, dropout: 0.5f, seed: 3);
        var prefix = Characters.Encode("bad cafe");
        foreach (RnnCharModel model in new RnnCharModel[] { lstm, gru })
        {
            foreach (var temperature in new[] { 0.5f, 1f })
            {
                var fromScratch = LstmGenerator.NextDistributionFromScratch(model, prefix, temperature);
                var carried = LstmGenerator.NextDistributionCarried(model, prefix, temperature);
                Assert.That(carried, Is.EqualTo(fromScratch).Within(1e-6), $"{model.Kind}, temperature {temperature}");
                Assert.That(fromScratch.Sum(), Is.EqualTo(1).Within(1e-5));
            }
        }
    }

    [TestCase(ModelKind.Lstm)]
    [TestCase(ModelKind.Gru)]
    public void GenerationIsSeededAndMakesTheRequestedNumberOfNewCharacters(ModelKind kind)
    {
        var device = TestDevices.Get("cpu");
        using RnnCharModel model = kind == ModelKind.Gru
            ? new GruCharModel(device, Characters.Count, 6, 2, dropout: 0f, seed: 3)
            : new LstmCharModel(device, Characters.Count, 6, 2, dropout: 0f, seed: 3);
        var start = Characters.Encode("bed");
        var a = LstmGenerator.Generate(model, start, 40, 1f, seed: 11);
        var b = LstmGenerator.Generate(model, start, 40, 1f, seed: 11);
        var c = LstmGenerator.Generate(model, start, 40, 1f, seed: 12);
        Assert.That(a, Has.Length.EqualTo(40));
        Assert.That(b, Is.EqualTo(a));
        Assert.That(c, Is.Not.EqualTo(a));
        Assert.That(a, Has.All.InRange(0, Characters.Count - 1));
    }

    [Test]
    public void VeryLowTemperatureIsGreedy()
    {
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, Characters.Count, 6, 1, dropout: 0f, seed: 5);
        var start = Characters.Encode("ab");
        var distribution = LstmGenerator.NextDistributionFromScratch(model, start, 1f);
        int argmax = Array.IndexOf(distribution, distribution.Max());
        var drawn = LstmGenerator.Generate(model, start, 1, 1e-4f, seed: 1);
        Assert.That(drawn[0], Is.EqualTo(argmax));
    }

    [Test]
    public void NgramGenerationFallsBackBoundedlyAndLeavesTheStartAlone()
    {
        var device = TestDevices.Get("cpu");
        var ngrams = NgramVocabulary.FromNgrams(3, ["abc", "bca", "cab"]);
        using var model = new NgramMlp(device, ngrams.Count, Characters.Count, 5, Activation.Tanh, seed: 2);
        const string start = "ggg";
        var text = NgramGenerator.Generate(model, Characters, ngrams, start, 30, 1f, seed: 4);
        Assert.That(text, Has.Length.EqualTo(30));
        Assert.That(text.All(Characters.Contains), Is.True);
        Assert.That(start, Is.EqualTo("ggg"));
        Assert.That(NgramGenerator.Generate(model, Characters, ngrams, start, 30, 1f, seed: 4), Is.EqualTo(text), "seeded");
    }

    [Test]
    public void UnknownNgramContextFallsBackToAKnownNgramWhenSubstitutionCannotHelp()
    {
        // The only character the substitutions can draw is 'z', and every known n-gram lacks it: no substitution can
        // reach one, so the loop must take its fallback after exactly MaxSubstitutions tries, each drawing a position
        // and a character, and then draw the fallback n-gram. Without the bound it never ends: the time limit fails it.
        var characters = CharVocabulary.FromTexts(["z"]);
        var ngrams = NgramVocabulary.FromNgrams(2, ["xy", "yx", "xx", "yy"]);
        var expected = new Random(3);
        for (int i = 0; i < NgramGenerator.MaxSubstitutions; i++)
        {
            expected.Next(2);
            expected.Next(1);
        }

        int expectedId = expected.Next(ngrams.Count);
        var search = Task.Run(() => NgramGenerator.KnownNgram(['z', 'z'], characters, ngrams, new Random(3)));
        Assert.That(search.Wait(TimeSpan.FromSeconds(20)), Is.True, "the substitution loop must be bounded");
        Assert.That(search.Result, Is.EqualTo(expectedId));
    }

    [Test]
    public void BadStartTextsNameTheProblem()
    {
        var device = TestDevices.Get("cpu");
        var ngrams = NgramVocabulary.FromNgrams(4, ["abcd"]);
        using var model = new NgramMlp(device, ngrams.Count, Characters.Count, 5, Activation.Relu, seed: 2);
        var unknown = Assert.Throws<UnknownCharacterException>(() => NgramGenerator.Generate(model, Characters, ngrams, "tHe1", 5, 1f, 0));
        Assert.That(unknown!.Message, Does.Contain("'t'").And.Contain("'H'").And.Contain("'1'"));
        var tooShort = Assert.Throws<ArgumentException>(() => NgramGenerator.Generate(model, Characters, ngrams, "bad", 5, 1f, 0));
        Assert.That(tooShort!.Message, Does.Contain("n = 4").And.Contain("\"bad\""));
    }
}
