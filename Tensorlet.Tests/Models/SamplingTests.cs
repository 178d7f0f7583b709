using System.Globalization;
using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

public sealed class SamplingTests
{
    private static readonly CharVocabulary Characters = CharVocabulary.FromTexts(["abcdefg "]);

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void CarriedStateGivesTheSameDistributionAsRerunningThePrefix(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var model = new LstmCharModel(device, Characters.Count, 6, 2, dropout: 0.5f, seed: 3);
        var prefix = Characters.Encode("bad cafe");
        foreach (var temperature in new[] { 0.5f, 1f })
        {
            var fromScratch = SequenceGenerator.NextDistributionFromScratch(model, prefix, temperature);
            var carried = SequenceGenerator.NextDistributionCarried(model, prefix, temperature);
            Assert.That(carried, Is.EqualTo(fromScratch).Within(1e-6), $"temperature {temperature}");
            Assert.That(fromScratch.Sum(), Is.EqualTo(1).Within(1e-5));
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void AModuleBuiltGruOrRnnModelSamplesWithItsStateCarriedAsFromTheWholePrefix(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        foreach (RnnBase rnn in new RnnBase[] { new Gru(5, 6, numLayers: 2, dropout: 0.5f), new Rnn(5, 6, numLayers: 2, dropout: 0.5f) })
        {
            string cell = rnn.GetType().Name;
            using var model = new Sequential(new Embedding(Characters.Count, 5), rnn, new Linear(6, Characters.Count));
            model.Build(device, seed: 4);
            var prefix = Characters.Encode("bad cafe");
            var fromScratch = SequenceGenerator.NextDistributionFromScratch(model, prefix, 0.7f);
            var carried = SequenceGenerator.NextDistributionCarried(model, prefix, 0.7f);
            Assert.That(carried, Is.EqualTo(fromScratch).Within(1e-6), cell);

            // Carrying the state and re-running a window as long as the text draw the same ids; the model is left as it was.
            var carriedIds = SequenceGenerator.Generate(model, prefix, 12, 1f, seed: 3);
            var windowIds = SequenceGenerator.Generate(model, prefix, 12, 1f, seed: 3, window: prefix.Length + 12);
            Assert.That(windowIds, Is.EqualTo(carriedIds), cell);
            RnnState? final = rnn is Gru gru ? gru.FinalState : ((Rnn)rnn).FinalState;
            Assert.That((model.Training, rnn.CarryState, final), Is.EqualTo((true, false, (RnnState?)null)), $"{cell}: training mode, no carried state");
        }
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ABatchFirstModelSamplesWhatTheTimeMajorModelSamples(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var timeMajor = new Sequential(new Embedding(Characters.Count, 5), new Lstm(5, 6, 2, dropout: 0.5f), new Linear(6, Characters.Count));
        using var batchFirst = new Sequential(new Embedding(Characters.Count, 5), new Lstm(5, 6, 2, dropout: 0.5f, batchFirst: true), new Linear(6, Characters.Count));
        timeMajor.Build(device, seed: 4);
        batchFirst.Build(device, seed: 4);
        var prefix = Characters.Encode("bad cafe");
        Assert.That(SequenceGenerator.NextDistributionCarried(batchFirst, prefix, 1f), Is.EqualTo(SequenceGenerator.NextDistributionCarried(timeMajor, prefix, 1f)), "fed one id at a time");
        Assert.That(SequenceGenerator.NextDistributionFromScratch(batchFirst, prefix, 1f), Is.EqualTo(SequenceGenerator.NextDistributionFromScratch(timeMajor, prefix, 1f)), "the whole prefix at once");
        Assert.That(SequenceGenerator.Generate(batchFirst, prefix, 12, 1f, seed: 3), Is.EqualTo(SequenceGenerator.Generate(timeMajor, prefix, 12, 1f, seed: 3)), "the state carried");
        Assert.That(SequenceGenerator.Generate(batchFirst, prefix, 12, 1f, seed: 3, window: 5), Is.EqualTo(SequenceGenerator.Generate(timeMajor, prefix, 12, 1f, seed: 3, window: 5)), "a window");

        using var mixed = new Sequential(new Embedding(Characters.Count, 5), new Lstm(5, 6, batchFirst: true), new Gru(6, 6), new Linear(6, Characters.Count));
        mixed.Build(device);
        Assert.That(Assert.Throws<ArgumentException>(() => SequenceGenerator.Stream(mixed, prefix, 1f, seed: 1))!.Message, Does.StartWith("The model has batch-first and time-major recurrent modules"), "checked when Stream is called");
    }

    [Test]
    public void AStartTextLongerThanAChunkDrawsWhatTheWholeTextFromScratchDrawsInTheMemoryOfOneChunk()
    {
        using var device = Device.Create("cpu"); // its own, so that no other test's buffers count
        using var model = new LstmCharModel(device, Characters.Count, 6, 2, dropout: 0f, seed: 6);
        var random = new Random(7);
        var start = Enumerable.Range(0, (2 * Evaluator.ChunkSteps) + 5).Select(_ => random.Next(Characters.Count)).ToArray();

        // The model keeps the buffers of its largest forward pass: after a start of one chunk, those of one chunk.
        _ = SequenceGenerator.Generate(model, start[..Evaluator.ChunkSteps], 6, 1f, seed: 8);
        long oneChunk = device.AllocatedBytes;
        var carried = SequenceGenerator.Generate(model, start, 6, 1f, seed: 8);
        long threeChunks = device.AllocatedBytes;
        var fromScratch = SequenceGenerator.Generate(model, start, 6, 1f, seed: 8, window: start.Length + 6);

        Assert.That(carried, Is.EqualTo(fromScratch), "three chunks, the state carried, then one id at a time");
        Assert.That(threeChunks, Is.EqualTo(oneChunk), "a start of three chunks takes the memory of one");
        Assert.That(device.AllocatedBytes, Is.GreaterThan(oneChunk), "the whole start in one pass takes more: what the chunks save");
    }

    [Test]
    public void LogProbabilitiesNeedTwoIdsAndLeaveTheModelsCarriedStateAsItWas()
    {
        var device = TestDevices.Get("cpu");
        using var model = new GruCharModel(device, Characters.Count, 5, 1, dropout: 0f, seed: 9);
        model.CarryState = true;

        Assert.Throws<ArgumentException>(() => Evaluator.LogProbabilities(model, [3]));
        var logProbabilities = Evaluator.LogProbabilities(model, Characters.Encode("bad cafe"));

        Assert.That(logProbabilities, Has.Length.EqualTo(7));
        Assert.That(logProbabilities, Is.All.LessThan(0.0));
        Assert.That(model.CarryState, Is.True, "as it was");
    }

    [Test]
    public void AModelWithoutRecurrentStateSamplesFromItsWindow()
    {
        var device = TestDevices.Get("cpu");

        // A bigram model: the logits of each step depend on its own id only, so a window of one is the whole story.
        using var bigram = new Sequential(new Embedding(Characters.Count, 4), new Tanh(), new Linear(4, Characters.Count));
        bigram.Build(device, seed: 2);
        var start = Characters.Encode("fed");
        var whole = SequenceGenerator.Generate(bigram, start, 20, 1f, seed: 5);
        var last = SequenceGenerator.Generate(bigram, start, 20, 1f, seed: 5, window: 1);
        Assert.That(last, Is.EqualTo(whole));
        Assert.That(SequenceGenerator.Generate(bigram, start, 20, 1f, seed: 6), Is.Not.EqualTo(whole), "the seed matters");
        Assert.Throws<ArgumentException>(() => SequenceGenerator.Generate(bigram, [], 5, 1f, seed: 1));
    }

    [Test]
    public void LstmGenerationIsSeededAndMakesTheRequestedNumberOfNewCharacters()
    {
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, Characters.Count, 6, 2, dropout: 0f, seed: 3);
        var start = Characters.Encode("bed");
        var a = SequenceGenerator.Generate(model, start, 40, 1f, seed: 11);
        var b = SequenceGenerator.Generate(model, start, 40, 1f, seed: 11);
        var c = SequenceGenerator.Generate(model, start, 40, 1f, seed: 12);
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
        var distribution = SequenceGenerator.NextDistributionFromScratch(model, start, 1f);
        int argmax = Array.IndexOf(distribution, distribution.Max());
        var drawn = SequenceGenerator.Generate(model, start, 1, 1e-4f, seed: 1);
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
        var search = Task.Run(() => NgramGenerator.KnownNgram([new System.Text.Rune('z'), new System.Text.Rune('z')], characters, ngrams, new Random(3)));
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

    [TestCase(-1f)]
    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    public void AnImpossibleTemperatureIsRefusedBeforeAnyDraw(float temperature)
    {
        // Before, the softmax refused it at the first draw (Stream is lazy) with "must be a positive finite number",
        // though 0 is accepted: the argmax.
        var device = TestDevices.Get("cpu");
        using var model = new LstmCharModel(device, Characters.Count, 6, 1, dropout: 0f, seed: 5);
        var ngrams = NgramVocabulary.FromNgrams(3, ["abc"]);
        using var ngramModel = new NgramMlp(device, ngrams.Count, Characters.Count, 5, Activation.Relu, seed: 2);
        string message = string.Create(
            CultureInfo.InvariantCulture, $"Temperature must be 0 (always the most likely token) or a positive finite number; got {temperature}. (Parameter 'temperature')");
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => SequenceGenerator.Stream(model, Characters.Encode("ab"), temperature, seed: 1))!.Message, Is.EqualTo(message), "one line");
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => NgramGenerator.Stream(model: ngramModel, Characters, ngrams, "abc", temperature, seed: 1))!.Message, Is.EqualTo(message), "one line");
        Assert.That(SequenceGenerator.Generate(model, Characters.Encode("ab"), 3, 0f, seed: 1), Has.Length.EqualTo(3), "0 is the argmax");
    }

    [TestCase(0f)]
    [TestCase(1f)]
    public void AModelWithNonFiniteWeightsIsRefusedInsteadOfDrawingOneIdForever(float temperature)
    {
        // Before, the softmax of NaN logits was NaN everywhere and every draw returned the last id.
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Embedding(5, 4), new Linear(4, 5));
        model.Build(device, seed: 1);
        Ops.Fill(((Linear)model[1]).Weight.Value, float.NaN);
        var ex = Assert.Throws<InvalidOperationException>(() => SequenceGenerator.Generate(model, [1, 2], 5, temperature, seed: 1));
        Assert.That(ex!.Message, Does.StartWith("The model's output holds NaN or infinity"));
    }

    [Test]
    public void AModelWhoseOutputIsWiderThanItsInputVocabularyIsRefusedBeforeAnyToken()
    {
        // Before, a drawn id of 3 or more failed the next step's Embedding, "Index 4 at position 0 is outside [0, 3)",
        // after the stream had given out the tokens before it.
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Embedding(3, 4), new Lstm(4, 6));
        model.Build(device, seed: 1);
        var ex = Assert.Throws<ArgumentException>(() => SequenceGenerator.Stream(model, [0, 1], 1f, seed: 1).First());
        Assert.That(ex!.Message, Does.StartWith("The model gives 6 logits per step but takes token ids below 3"));
        using var narrower = new Sequential(new Embedding(5, 4), new Linear(4, 3));
        narrower.Build(device, seed: 1);
        Assert.That(SequenceGenerator.Generate(narrower, [4, 1], 20, 1f, seed: 2), Has.All.InRange(0, 2), "fewer outputs than inputs is fine");
    }
}
