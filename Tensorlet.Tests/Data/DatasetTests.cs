using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

public sealed class DatasetTests
{
    private static readonly string[] Sequences = ["abcdefghijklmnop", "ponmlkjihgfedcba"];

    [Test]
    public void NgramWindowsAreTheNotebooksInputsAndNextCharacters()
    {
        var characters = CharVocabulary.FromTexts(Sequences);
        var ngrams = NgramVocabulary.FromSequences(Sequences, 3);
        var dataset = NgramDataset.Create(Sequences, characters, ngrams);

        Assert.That(dataset.Count, Is.EqualTo(20));
        Assert.That(dataset.NgramOrder, Is.EqualTo(3));
        // Window 4 of sequence 0: "efg" -> 'h'; window 10 is sequence 1's first: "pon" -> 'm'.
        Assert.That(ngrams[dataset.Inputs[4]], Is.EqualTo("efg"));
        Assert.That(characters[dataset.Targets[4]], Is.EqualTo('h'));
        Assert.That(characters.Decode(dataset.Contexts.AsSpan(4 * 3, 3)), Is.EqualTo("efg"));
        Assert.That(ngrams[dataset.Inputs[10]], Is.EqualTo("pon"));
        Assert.That(characters[dataset.Targets[10]], Is.EqualTo('m'));
        Assert.That(dataset.SequenceOf[10], Is.EqualTo(1));

        Span<int> inputs = stackalloc int[2];
        Span<int> targets = stackalloc int[2];
        dataset.FillBatch([10, 4], inputs, targets);
        Assert.That(inputs.ToArray(), Is.EqualTo(new[] { dataset.Inputs[10], dataset.Inputs[4] }));
        Assert.That(targets.ToArray(), Is.EqualTo(new[] { dataset.Targets[10], dataset.Targets[4] }));
    }

    [Test]
    public void WindowsWithAnNgramOutsideTheVocabularyAreSkippedAndCounted()
    {
        var characters = CharVocabulary.FromTexts(Sequences);
        var ngrams = NgramVocabulary.FromSequences(Sequences[..1], 2);
        var dataset = NgramDataset.Create(Sequences, characters, ngrams, windowsPerSequence: null);

        // 16 - 2 = 14 windows per sequence; 4 of the first's (kl..no) and all 14 of the reversed one are not among the
        // first 10 bigrams of the first sequence.
        Assert.That(dataset.Count + dataset.SkippedWindows, Is.EqualTo(28));
        Assert.That(dataset.SkippedWindows, Is.EqualTo(18));
        Assert.That(dataset.Positions, Is.EqualTo(Enumerable.Range(2, 10).ToArray()), "each window's target position, i + n");
    }

    [Test]
    public void NgramWindowsCountCharactersNotUtf16CodeUnits()
    {
        // 😀 and 🐈 are two UTF-16 code units each, 猫 and 語 one: every window is n characters before the target.
        string[] sequences = ["a😀猫🐈b語😀c", "🐈🐈a😀"];
        var characters = CharVocabulary.FromTexts(sequences);
        var ngrams = NgramVocabulary.FromSequences(sequences, 2, windowsPerSequence: null);
        var dataset = NgramDataset.Create(sequences, characters, ngrams, windowsPerSequence: null);

        // 8 - 2 and 4 - 2 windows; bigrams in ordinal UTF-16 order (a surrogate pair sorts after 猫 and 語).
        Assert.That(ngrams.Ngrams, Is.EqualTo(new[] { "a😀", "b語", "猫🐈", "語😀", "🐈a", "🐈b", "🐈🐈", "😀猫" }));
        Assert.That(dataset.Count, Is.EqualTo(8));
        Assert.That(Enumerable.Range(0, 8).Select(w => ngrams[dataset.Inputs[w]] + "→" + characters.Decode(dataset.Targets[w])), Is.EqualTo(new[]
        {
            "a😀→猫", "😀猫→🐈", "猫🐈→b", "🐈b→語", "b語→😀", "語😀→c", "🐈🐈→a", "🐈a→😀",
        }));
        Assert.That(characters.Decode(dataset.Contexts.AsSpan(1 * 2, 2)), Is.EqualTo("😀猫"));
        Assert.That(dataset.Positions, Is.EqualTo(new[] { 2, 3, 4, 5, 6, 7, 2, 3 }), "target positions count characters");

        var back = NgramVocabulary.Deserialize(ngrams.Serialize());
        Assert.That(back.Ngrams, Is.EqualTo(ngrams.Ngrams));
        Assert.That(NgramDataset.Create(sequences, characters, back, windowsPerSequence: null).Inputs, Is.EqualTo(dataset.Inputs));
    }

    [Test]
    public void LstmPairsAreViewsOfOneIndexArray()
    {
        var characters = CharVocabulary.FromTexts(Sequences);
        var dataset = CharSequenceDataset.Create(Sequences, characters);

        Assert.That(dataset.Count, Is.EqualTo(2));
        Assert.That(dataset.SequenceLength, Is.EqualTo(16));
        Assert.That(dataset.Steps, Is.EqualTo(15));
        Assert.That(dataset.Indices, Has.Length.EqualTo(32));
        Assert.That(characters.Decode(dataset.Inputs(1)), Is.EqualTo("ponmlkjihgfedcb"));
        Assert.That(characters.Decode(dataset.Targets(1)), Is.EqualTo("onmlkjihgfedcba"));

        var inputs = new int[2 * 15];
        var targets = new int[2 * 15];
        dataset.FillBatchTimeMajor([1, 0], inputs, targets);
        Assert.That(characters[inputs[0]], Is.EqualTo('p'));   // t=0, b=0 (sequence 1)
        Assert.That(characters[inputs[1]], Is.EqualTo('a'));   // t=0, b=1 (sequence 0)
        Assert.That(characters[targets[(14 * 2) + 1]], Is.EqualTo('p'));

        dataset.FillBatchBatchMajor([1, 0], inputs, targets);
        Assert.That(characters.Decode(inputs.AsSpan(15, 15)), Is.EqualTo("abcdefghijklmno"));
        Assert.That(characters.Decode(targets.AsSpan(0, 15)), Is.EqualTo("onmlkjihgfedcba"));
    }

    [Test]
    public void SequencesOfDifferentLengthsOrUnknownCharactersAreRejected()
    {
        var characters = CharVocabulary.FromCharacters("abc");
        Assert.Throws<ArgumentException>(() => CharSequenceDataset.Create(["abc", "ab"], characters));
        Assert.Throws<UnknownCharacterException>(() => CharSequenceDataset.Create(["abc", "abd"], characters));
    }

    [Test]
    public void AnEmptySequenceListIsRejectedRatherThanGivenAMadeUpLength()
    {
        var characters = CharVocabulary.FromCharacters("abc");

        var ex = Assert.Throws<ArgumentException>(() => CharSequenceDataset.Create([], characters));

        Assert.That(ex!.ParamName, Is.EqualTo("sequences"));
        Assert.That(ex.Message, Does.StartWith("There are no sequences"));
    }
}
