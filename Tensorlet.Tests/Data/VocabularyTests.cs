using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

public sealed class VocabularyTests
{
    [Test]
    public void CharactersAreSortedOrdinallyAndRoundTrip()
    {
        var vocabulary = CharVocabulary.FromTexts(["hello world.", "a, b!"]);

        Assert.That(vocabulary.Serialize(), Is.EqualTo(" !,.abdehlorw"));
        Assert.That(vocabulary.IndexOf(' '), Is.Zero);
        Assert.That(vocabulary.IndexOf('w'), Is.EqualTo(vocabulary.Count - 1));
        Assert.That(vocabulary.IndexOf('z'), Is.EqualTo(-1));
        Assert.That(vocabulary.Decode(vocabulary.Encode("hello, world!")), Is.EqualTo("hello, world!"));
        Assert.That(CharVocabulary.Deserialize(vocabulary.Serialize()), Is.EqualTo(vocabulary));
    }

    [Test]
    public void EncodingListsEveryUnknownCharacter()
    {
        var vocabulary = CharVocabulary.FromCharacters("abc ");

        var ex = Assert.Throws<UnknownCharacterException>(() => vocabulary.Encode("aXb1 X\n"));

        Assert.That(ex!.Characters, Is.EqualTo(new[] { 'X', '1', '\n' }));
        Assert.That(ex.Message, Does.Contain("'X', '1', U+000A"));
        Assert.That(ex, Is.InstanceOf<ArgumentException>());
    }

    [Test]
    public void DecodingRejectsIndicesOutsideTheVocabulary()
    {
        var vocabulary = CharVocabulary.FromCharacters("ab");
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, 2]));
    }

    [Test]
    public void DeserializingRejectsUnsortedCharacters()
    {
        Assert.Throws<FormatException>(() => CharVocabulary.Deserialize("ba"));
        Assert.Throws<FormatException>(() => CharVocabulary.Deserialize("aa"));
    }

    [Test]
    public void NgramVocabularyTakesTheFirstWindowsOfEachSequence()
    {
        // Length 16, n=2: 14 windows (i = 0..13, the last predicting s[15]); the notebook keeps the first 10 (i = 0..9).
        var sequences = new[] { "abcdefghijklmnop", "abcdefghijklmnop", "zyxwvutsrqponmlk" };

        var ten = NgramVocabulary.FromSequences(sequences, 2);
        var all = NgramVocabulary.FromSequences(sequences, 2, windowsPerSequence: null);

        Assert.That(ten.Ngrams, Is.EqualTo(new[] { "ab", "bc", "cd", "de", "ef", "fg", "gh", "hi", "ij", "jk", "qp", "rq", "sr", "ts", "ut", "vu", "wv", "xw", "yx", "zy" }));
        Assert.That(all.Count, Is.EqualTo(28));
        Assert.That(NgramWindows.PerSequence(100, 3), Is.EqualTo(10));
        Assert.That(NgramWindows.PerSequence(100, 3, null), Is.EqualTo(97), "targets at positions 3..99");
        Assert.That(NgramWindows.PerSequence(5, 4, null), Is.EqualTo(1));
        Assert.That(NgramWindows.PerSequence(4, 4, null), Is.Zero);
    }

    [Test]
    public void NgramVocabularyRoundTripsThroughItsSerializedForm()
    {
        var vocabulary = NgramVocabulary.FromNgrams(3, ["ab ", " ,a", "zzz", "ab "]);
        var serialized = vocabulary.Serialize();

        Assert.That(serialized, Is.EqualTo("3\n ,aab zzz"));
        var back = NgramVocabulary.Deserialize(serialized);
        Assert.That(back.NgramOrder, Is.EqualTo(3));
        Assert.That(back.Ngrams, Is.EqualTo(vocabulary.Ngrams));
        Assert.That(back.IndexOf("ab "), Is.EqualTo(1));
        Assert.That(back.IndexOf("abc"), Is.EqualTo(-1));
        Assert.Throws<FormatException>(() => NgramVocabulary.Deserialize("3\nabcd"));
        Assert.Throws<FormatException>(() => NgramVocabulary.Deserialize("x\nabc"));
        Assert.Throws<ArgumentException>(() => NgramVocabulary.FromNgrams(2, ["abc"]));
    }
}
