using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

/// <summary>Small cases of scikit-learn's strip functions; each expected value was computed with sklearn 1.2.1.</summary>
public sealed class NewsgroupsStrippingTests
{
    [TestCase("From: a\nSubject: b\n\nBody\n\nMore", "Body\n\nMore")]
    [TestCase("From: a\nSubject: b\nno blank line", "")]
    [TestCase("\n\nAll body", "All body")]
    [TestCase("From: a\r\n\r\nBody", "")]
    public void HeaderIsEverythingBeforeTheFirstBlankLine(string text, string expected)
    {
        Assert.That(NewsgroupsStripping.StripHeader(text), Is.EqualTo(expected));
    }

    [TestCase("Body\nmore\n--\nJohn\n", "Body\nmore")]
    [TestCase("Body\n\nmore\n\n", "Body")]
    [TestCase("Body\n -- \nSig\n---\nSig2", "Body\n -- \nSig")]
    [TestCase("  \n\nonly one line  \n", "  \n\nonly one line  \n")]
    [TestCase("--\nall signature", "--\nall signature")]
    [TestCase("", "")]
    [TestCase("Body\n- -\nSig", "Body\n- -\nSig")]
    [TestCase("Body\n\u00a0\u00a0\nSig", "Body")]
    [TestCase("Body\n\x1c\nSig", "Body")]
    [TestCase("Body\r\n--\r\nSig\r\n", "Body\r")]
    public void FooterIsCutAtTheLastBlankOrDashLine(string text, string expected)
    {
        Assert.That(NewsgroupsStripping.StripFooter(text), Is.EqualTo(expected));
    }

    [TestCase("In article <1@x> a@b writes:\n> quoted\nreply\n| also\nok", "reply\nok")]
    [TestCase("a\nb", "a\nb")]
    [TestCase(">x\n>y", "")]
    [TestCase("x\n\nHe said: hi\nShe says: no\n  > indented", "x\n\n  > indented")]
    [TestCase("Quoted from x\nwrote: y\nwrites in z\nkeep\r\n>q\r\nlast", "keep\r\nlast")]
    [TestCase(" In article x\nin article y", " In article x\nin article y")]
    public void QuotingDropsQuotedAndIntroducingLines(string text, string expected)
    {
        Assert.That(NewsgroupsStripping.StripQuoting(text), Is.EqualTo(expected));
    }

    [TestCase("From: a\n\nx writes:\n> q\nbody words here\n--\nsig")]
    [TestCase("no header at all\n> quoted\nline")]
    [TestCase("From: a\n\n\n--\n")]
    [TestCase("")]
    public void TheLoadersSpanPathMatchesTheStringFunctions(string body)
    {
        var text = body + " " + string.Concat(Enumerable.Repeat("filler Words, ", 12));
        for (int flags = 0; flags < 8; flags++)
        {
            var remove = (NewsgroupsRemove)flags;
            Assert.That(
                NewsgroupsCorpus.StripAndClean(text, remove),
                Is.EqualTo(NotebookCleaning.Clean(NewsgroupsStripping.Apply(text, remove))),
                remove.ToString());
        }
    }

    [Test]
    public void ApplyRunsHeadersThenFootersThenQuotes()
    {
        var text = "From: a\n\nx writes:\n> q\nbody\n--\nsig";
        Assert.That(NewsgroupsStripping.Apply(text, NewsgroupsRemove.All), Is.EqualTo("body"));
        Assert.That(NewsgroupsStripping.Apply(text, NewsgroupsRemove.Quotes), Is.EqualTo("From: a\n\nbody\n--\nsig"));
        Assert.That(NewsgroupsStripping.Apply(text, NewsgroupsRemove.None), Is.SameAs(text));
    }
}
