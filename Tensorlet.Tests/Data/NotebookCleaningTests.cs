using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

public sealed class NotebookCleaningTests
{
    [Test]
    public void PythonWordCharactersOverLatin1()
    {
        // Python 3: [c for c in range(256) if re.match(r"\w", chr(c))] has 134 members: 0-9 A-Z _ a-z and 71 above 127.
        var word = Enumerable.Range(0, 256).Where(c => PythonText.IsWord((char)c)).ToList();
        Assert.That(word, Has.Count.EqualTo(134));
        Assert.That(word.Count(c => c >= 128), Is.EqualTo(71));

        // Python: "".join(chr(c) for c in range(128, 256) if re.match(r"\w", chr(c)))
        var expectedHigh = "\u00aa\u00b2\u00b3\u00b5\u00b9\u00ba\u00bc\u00bd\u00be"
            + string.Concat(Enumerable.Range(0xc0, 0x100 - 0xc0).Where(c => c != 0xd7 && c != 0xf7).Select(c => (char)c));
        Assert.That(new string(word.Where(c => c >= 128).Select(c => (char)c).ToArray()), Is.EqualTo(expectedHigh));
        Assert.That(word.Where(c => c < 128).Select(c => (char)c), Is.EqualTo("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"));
        // Numbers of category No are \w in Python (isalnum) but not in .NET's \w.
        foreach (char c in "\u00b2\u00b3\u00b9\u00bc\u00bd\u00be\u00aa\u00b5\u00ba\u00df\u00e9\u00ff_")
        {
            Assert.That(PythonText.IsWord(c), Is.True, $"U+{(int)c:X4}");
        }

        foreach (char c in "\u00d7\u00f7\u00a0\u00ad\u00b7\u00bf\u00a7'-")
        {
            Assert.That(PythonText.IsWord(c), Is.False, $"U+{(int)c:X4}");
        }
    }

    [Test]
    public void PythonWhitespaceOverLatin1()
    {
        // Python 3: [hex(c) for c in range(256) if chr(c).isspace()].
        int[] expected = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0];
        Assert.That(Enumerable.Range(0, 256).Where(c => PythonText.IsSpace((char)c)), Is.EqualTo(expected));
        Assert.That(PythonText.Strip("\x1c\u00a0 a b\r\n\x85").ToString(), Is.EqualTo("a b"));
    }

    [Test]
    public void TokenizesLikeTheNotebooksRegex()
    {
        // re.findall(r"[\w']+|[.,!?;]", "Don't café x² -- 3.5 e-mail, ok?!") (checked in Python 3.11)
        Assert.That(
            NotebookCleaning.Tokenize("Don't caf\u00e9 x\u00b2 -- 3.5 e-mail, ok?!"),
            Is.EqualTo(new[] { "Don't", "caf\u00e9", "x\u00b2", "3", ".", "5", "e", "mail", ",", "ok", "?", "!" }));
    }

    [TestCase("word", true)]
    [TestCase("Word", true)]
    [TestCase("iPhone", true)]
    [TestCase("I", false)]
    [TestCase("NASA", false)]
    [TestCase(".", true)]
    [TestCase(";", true)]
    [TestCase("don't", false)]
    [TestCase("caf\u00e9", false)]
    [TestCase("x2", false)]
    [TestCase("x\u00b2", false)]
    [TestCase("snake_case", false)]
    public void KeepsOnlyAsciiLettersOrPunctuationNotUpperCase(string token, bool kept)
    {
        Assert.That(NotebookCleaning.IsKept(token), Is.EqualTo(kept));
    }

    [Test]
    public void AnEightBitLetterDropsItsWholeWord()
    {
        // "café" is one \w token in Python and is dropped; an ASCII-only \w would keep "caf".
        var text = "caf\u00e9 " + string.Concat(Enumerable.Repeat("word ", 30));
        var cleaned = NotebookCleaning.Clean(text);
        Assert.That(cleaned, Does.StartWith("word word"));
        Assert.That(cleaned, Has.Length.EqualTo(100));
    }

    [Test]
    public void KeepsPostsReachingExactly100CharactersAndCutsLongerOnes()
    {
        // 20 tokens "abcd" joined: 20*4 + 19 = 99 characters: dropped. One more "a": 101, cut to 100 (ends in a space).
        var ninetyNine = string.Join(' ', Enumerable.Repeat("abcd", 20));
        Assert.That(NotebookCleaning.JoinKeptTokens(ninetyNine), Has.Length.EqualTo(99));
        Assert.That(NotebookCleaning.Clean(ninetyNine), Is.Null);

        var cleaned = NotebookCleaning.Clean(ninetyNine + " A b");
        Assert.That(cleaned, Is.EqualTo(ninetyNine + " "), "the upper-case \"A\" is dropped; the space before \"b\" is the 100th character");

        var exactly = NotebookCleaning.Clean(ninetyNine + "e");
        Assert.That(exactly, Is.EqualTo(ninetyNine + "e"));
    }

    [Test]
    public void CleanEqualsTheJoinedTokensCutTo100()
    {
        var text = "Hello, World! I'm HERE; numbers 42 and x86 vanish. THE END? Yes... \u00e9t\u00e9 \u00fcber ok.\r\nMore text follows here to pass the limit.";
        var joined = NotebookCleaning.JoinKeptTokens(text);
        Assert.That(joined, Does.StartWith("hello , world ! ; numbers and vanish . ? yes . . . ok . more text"));
        Assert.That(NotebookCleaning.Clean(text), Is.EqualTo(joined.Length >= 100 ? joined[..100] : null));
    }
}
