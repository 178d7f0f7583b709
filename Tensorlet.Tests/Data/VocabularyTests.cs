using System.Text;
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

        Assert.That(ex!.Characters, Is.EqualTo(new[] { new Rune('X'), new Rune('1'), new Rune('\n') }));
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
    public void NgramVocabularyOfCharactersOutsideTheBasicPlaneRoundTripsSlicingByCharacters()
    {
        // n-grams of 3 characters, 3 to 6 UTF-16 code units: the serialized body is sliced 3 characters at a time.
        var vocabulary = NgramVocabulary.FromNgrams(3, ["😀猫a", "abc", "🐈🐈🐈", "猫が好", "a😀b"]);
        Assert.That(vocabulary.Ngrams, Is.EqualTo(new[] { "abc", "a😀b", "猫が好", "🐈🐈🐈", "😀猫a" }), "ordinal UTF-16 order: U+1F408 is D83D DC08, U+1F600 D83D DE00");
        var serialized = vocabulary.Serialize();
        Assert.That(serialized, Is.EqualTo("3\nabca😀b猫が好🐈🐈🐈😀猫a"));

        var back = NgramVocabulary.Deserialize(serialized);
        Assert.That(back.Ngrams, Is.EqualTo(vocabulary.Ngrams));
        Assert.That(back.IndexOf("猫が好"), Is.EqualTo(2));
        Assert.That(back.IndexOf("🐈🐈🐈"), Is.EqualTo(3));
        Assert.Throws<FormatException>(() => NgramVocabulary.Deserialize("3\nabc😀猫"), "ends inside an n-gram");
        Assert.Throws<FormatException>(() => NgramVocabulary.Deserialize("2\n😀aa😀"), "not increasing");
        Assert.Throws<ArgumentException>(() => NgramVocabulary.FromNgrams(3, ["😀猫"]), "two characters, three code units");
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
        Assert.Throws<FormatException>(() => NgramVocabulary.Deserialize("2\na\uD83D"), "an unpaired surrogate");
        Assert.Throws<ArgumentException>(() => NgramVocabulary.FromNgrams(2, ["a\uD83D"]), "half an emoji is no character");
        Assert.Throws<FormatException>(() => NgramVocabulary.Deserialize("x\nabc"));
        Assert.Throws<ArgumentException>(() => NgramVocabulary.FromNgrams(2, ["abc"]));
    }

    [Test]
    public void CharactersAreUnicodeScalarsSortedByValue()
    {
        // 'é' U+00E9, '世' U+4E16, '🙂' U+1F642 (two UTF-16 code units, one character).
        var vocabulary = CharVocabulary.FromTexts(["🙂é\n世a🙂"]);

        Assert.That(vocabulary.Count, Is.EqualTo(5));
        Assert.That(vocabulary.Serialize(), Is.EqualTo("\naé世🙂"));
        Assert.That(vocabulary.IndexOf(new Rune(0x1F642)), Is.EqualTo(4));
        Assert.That(vocabulary.RuneAt(3), Is.EqualTo(new Rune('世')));
        Assert.That(vocabulary.Encode("a🙂\n"), Is.EqualTo(new[] { 1, 4, 0 }));
        Assert.That(vocabulary.Decode([4, 2, 3]), Is.EqualTo("🙂é世"));
        Assert.That(vocabulary.Decode(4), Is.EqualTo("🙂"));
        Assert.That(CharVocabulary.Deserialize(vocabulary.Serialize()), Is.EqualTo(vocabulary));
        Assert.That(CharVocabulary.CountCharacters("a🙂"), Is.EqualTo(2));
        Assert.Throws<InvalidOperationException>(() => _ = vocabulary[4]);
        Assert.That(vocabulary[2], Is.EqualTo('é'));
    }

    [Test]
    public void TheNewsgroupsVocabularyOfEarlierCheckpointsReadsBackUnchanged()
    {
        const string saved = " !,.;?abcdefghijklmnopqrstuvwxyz";

        var vocabulary = CharVocabulary.Deserialize(saved);

        Assert.That(vocabulary.Count, Is.EqualTo(32));
        Assert.That(vocabulary.IndexOf(' '), Is.Zero);
        Assert.That(vocabulary.IndexOf('z'), Is.EqualTo(31));
        Assert.That(vocabulary.Serialize(), Is.EqualTo(saved));
        Assert.That(vocabulary, Is.EqualTo(CharVocabulary.FromCharacters(saved)));
    }

    [Test]
    public void UnknownEmojiAreListedAsCharactersAndUnpairedSurrogatesRejected()
    {
        var vocabulary = CharVocabulary.FromTexts(["ab"]);

        var ex = Assert.Throws<UnknownCharacterException>(() => vocabulary.Encode("a🙂b世"));

        Assert.That(ex!.Characters, Is.EqualTo(new[] { new Rune(0x1F642), new Rune('世') }));
        Assert.That(ex.Message, Does.Contain("'🙂', '世'"));
        Assert.Throws<ArgumentException>(() => vocabulary.Encode("a\uD83D"));
        Assert.Throws<FormatException>(() => CharVocabulary.Deserialize("a\uDE42"));
        Assert.Throws<FormatException>(() => CharVocabulary.Deserialize("🙂a"));
    }
}
