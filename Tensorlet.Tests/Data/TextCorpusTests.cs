using System.Text;
using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

public sealed class TextCorpusTests
{
    private const string Mixed = "Grüße, 世界!\n🙂 naïve 🙂\r\nEnd";
    private string folder = "";

    [SetUp]
    public void CreateFolder()
    {
        folder = Path.Combine(Path.GetTempPath(), "tensorlet-text-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void EveryUnicodeScalarIsOneCharacterAndNothingIsDropped()
    {
        string path = Write("mixed.txt", Mixed);

        var corpus = TextCorpus.Load(path);

        var runes = Mixed.EnumerateRunes().ToArray();
        Assert.That(corpus.Length, Is.EqualTo(runes.Length));
        Assert.That(corpus.Vocabulary.Runes, Is.EqualTo(runes.Distinct().OrderBy(r => r.Value)));
        Assert.That(corpus.Vocabulary.Decode(corpus.Ids.ToArray()), Is.EqualTo(Mixed));
        Assert.That(corpus.Vocabulary.IndexOf(new Rune('\n')), Is.Zero, "\\n is the smallest scalar here");
        Assert.That(corpus.Vocabulary.Contains(new Rune(0x1F642)), Is.True, "the emoji is one character");
        Assert.That(corpus.Vocabulary.Contains(new Rune('界')), Is.True);
        Assert.That(corpus.Ids.BytesPerId, Is.EqualTo(1));
        Assert.That(corpus.Files, Is.EqualTo(new[] { path }));
    }

    [Test]
    public void LowercasingIsOptionalAndCoversNonAsciiLetters()
    {
        string path = Write("upper.txt", "ÀB c Ü");

        Assert.That(Text(TextCorpus.Load(path)), Is.EqualTo("ÀB c Ü"));
        var lower = TextCorpus.Load(path, lowercase: true);
        Assert.That(Text(lower), Is.EqualTo("àb c ü"));
        Assert.That(lower.Lowercase, Is.True);
    }

    [Test]
    public void ALeadingByteOrderMarkIsSkippedButOneInsideTheTextIsKept()
    {
        string path = Path.Combine(folder, "bom.txt");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, (byte)'a', 0xEF, 0xBB, 0xBF, (byte)'b']);

        Assert.That(Text(TextCorpus.Load(path)), Is.EqualTo("a\uFEFFb"));
    }

    [Test]
    public void AFolderIsItsTxtFilesInOrdinalOrderJoinedAsTheyAre()
    {
        Write("b.txt", "second\n");
        Write("a.txt", "first\n");
        Write("B.txt", "upper B first\n");
        Write("notes.md", "not read");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllText(Path.Combine(folder, "sub", "c.txt"), "not read either");

        var corpus = TextCorpus.Load(folder);

        Assert.That(Text(corpus), Is.EqualTo("upper B first\nfirst\nsecond\n"));
        Assert.That(corpus.Files.Select(Path.GetFileName), Is.EqualTo(new[] { "B.txt", "a.txt", "b.txt" }));
    }

    [TestCase(new byte[] { (byte)'a', (byte)'b', 0xFF, (byte)'c' }, 2)]
    [TestCase(new byte[] { (byte)'a', 0xC3, (byte)'(' }, 1)] // a lead byte without its continuation
    [TestCase(new byte[] { 0xED, 0xA0, 0x80 }, 0)] // an encoded surrogate
    [TestCase(new byte[] { (byte)'x', (byte)'y', 0xF0, 0x9F, 0x99 }, 2)] // an emoji cut off at the end
    public void InvalidUtf8NamesTheFileAndTheByteOffset(byte[] bytes, long offset)
    {
        string path = Path.Combine(folder, "bad.txt");
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<InvalidTextException>(() => TextCorpus.Load(path));

        Assert.That(ex!.Path, Is.EqualTo(path));
        Assert.That(ex.ByteOffset, Is.EqualTo(offset));
        Assert.That(ex.Message, Does.Contain(path).And.Contain($"byte offset {offset}").And.Contain("UTF-8"));
    }

    [Test]
    public void SequencesAcrossTheReadBufferDecodeAndOffsetsCountFromTheFileStart()
    {
        // 1 MiB buffers: put a 4-byte emoji across the first boundary and a bad byte in the second buffer.
        var bytes = new List<byte>(Enumerable.Repeat((byte)'a', (1 << 20) - 2));
        bytes.AddRange(Encoding.UTF8.GetBytes("🙂"));
        bytes.AddRange(Enumerable.Repeat((byte)'b', 1000));
        string good = Path.Combine(folder, "good.txt");
        File.WriteAllBytes(good, [.. bytes]);

        var corpus = TextCorpus.Load(good);
        Assert.That(corpus.Length, Is.EqualTo((1 << 20) - 2 + 1 + 1000));
        Assert.That(corpus.Vocabulary.RuneAt(corpus.Ids[(1 << 20) - 2]), Is.EqualTo(new Rune(0x1F642)));

        bytes.Add(0x80);
        string bad = Path.Combine(folder, "bad.txt");
        File.WriteAllBytes(bad, [.. bytes]);
        var ex = Assert.Throws<InvalidTextException>(() => TextCorpus.Load(bad));
        Assert.That(ex!.ByteOffset, Is.EqualTo(bytes.Count - 1));
    }

    [Test]
    public void MissingEmptyAndTxtlessPathsAreClearErrors()
    {
        Assert.That(() => TextCorpus.Load(Path.Combine(folder, "none.txt")), Throws.TypeOf<CorpusException>().With.Message.Contains("does not exist"));
        Assert.That(() => TextCorpus.Load(folder), Throws.TypeOf<CorpusException>().With.Message.Contains("no *.txt"));
        string empty = Write("empty.txt", "");
        Assert.That(() => TextCorpus.Load(empty), Throws.TypeOf<CorpusException>().With.Message.Contains("no text"));
    }

    [Test]
    public void IdsTakeTwoBytesWhenTheVocabularyPasses256Characters()
    {
        var text = new StringBuilder();
        for (int c = 0x4E00; c < 0x4E00 + 300; c++)
        {
            text.Append((char)c);
        }

        text.Append("🙂\n");
        var corpus = TextCorpus.Load(Write("cjk.txt", text.ToString()));

        Assert.That(corpus.Vocabulary.Count, Is.EqualTo(302));
        Assert.That(corpus.Ids.BytesPerId, Is.EqualTo(2));
        Assert.That(Text(corpus), Is.EqualTo(text.ToString()));
    }

    [Test]
    public void TheValidationPartIsTheLastFractionWhole()
    {
        var corpus = TextCorpus.Load(Write("abc.txt", "abcdefghijklmnopqrst"));

        var (train, validation) = corpus.Split(0.25);

        Assert.That(corpus.Vocabulary.Decode(train.ToArray()), Is.EqualTo("abcdefghijklmno"));
        Assert.That(corpus.Vocabulary.Decode(validation.ToArray()), Is.EqualTo("pqrst"));
        Assert.That(corpus.Split(0).Validation.Length, Is.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => corpus.Split(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => corpus.Split(double.NaN));
    }

    [Test]
    public void AGivenVocabularyGivesTheIdsAndStaysTheCorpusVocabulary()
    {
        string path = Write("sub.txt", "Ba\nab 🙂");
        var vocabulary = CharVocabulary.FromRunes("zyx🙂 ba\n".EnumerateRunes());

        var lower = TextCorpus.Load(path, vocabulary, lowercase: true);

        Assert.That(lower.Vocabulary, Is.SameAs(vocabulary));
        Assert.That(lower.Vocabulary.Count, Is.EqualTo(8), "z, y and x stay, unused");
        Assert.That(lower.Ids.ToArray(), Is.EqualTo(vocabulary.Encode("ba\nab 🙂")));
        Assert.That(Text(lower), Is.EqualTo("ba\nab 🙂"));
        Assert.That(() => TextCorpus.Load(path, vocabulary), Throws.TypeOf<CorpusException>().With.Message.Contains("'B' ×1"), "not lowercased, B is not in it");
    }

    [Test]
    public void CharactersOutsideAGivenVocabularyAreListedMostFrequentFirst()
    {
        string path = Write("odd.txt", "abc ~~~ é ö é 🙂 123456789");
        var vocabulary = CharVocabulary.FromCharacters("abc ");

        var error = Assert.Throws<CorpusException>(() => TextCorpus.Load(path, vocabulary))!;

        Assert.That(error.Path, Is.EqualTo(path));
        Assert.That(
            error.Message,
            Is.EqualTo($"{path} has 13 characters that the vocabulary of 4 lacks: '~' ×3, 'é' ×2, '1' ×1, '2' ×1, '3' ×1, '4' ×1, '5' ×1, '6' ×1 and 5 more."));
        Assert.That(TextCorpus.Load(path, CharVocabulary.FromTexts(["abc ~éö🙂123456789"])).Length, Is.EqualTo(25), "the same text in a vocabulary that has its characters");
        Assert.Throws<ArgumentNullException>(() => TextCorpus.Load(path, vocabulary: null!));
    }

    [Test]
    public void CompactIdsRoundTripAndSliceWithoutCopying()
    {
        int[] ids = [0, 5, 255, 7, 1];
        var narrow = CharIds.FromIds(ids, 256);
        var wide = CharIds.FromIds(ids, 70_000);

        Assert.That(narrow.BytesPerId, Is.EqualTo(1));
        Assert.That(wide.BytesPerId, Is.EqualTo(4));
        Assert.That(narrow.ToArray(), Is.EqualTo(ids));
        Assert.That(wide.ToArray(), Is.EqualTo(ids));
        Assert.That(narrow.Slice(1, 3).ToArray(), Is.EqualTo(new[] { 5, 255, 7 }));
        Assert.That(narrow.Slice(1, 3)[2], Is.EqualTo(7));
        Assert.That(
            () => CharIds.FromIds([3, 256], 256),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("Id 256 at position 1 is outside the vocabulary of 256 characters [0, 256). (Parameter 'ids')"));
        Assert.That(
            () => narrow.Slice(3, 3),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("3 characters from 3 run past the text's 5. (Parameter 'length')"));
        Assert.That(
            () => _ = narrow.Slice(1, 3)[3],
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("Index 3 is outside the text's 3 characters [0, 3). (Parameter 'index')"));
    }

    private static string Text(TextCorpus corpus) => corpus.Vocabulary.Decode(corpus.Ids.ToArray());

    private string Write(string name, string text)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }
}
