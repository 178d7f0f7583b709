using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

public sealed class NewsgroupsReaderTests
{
    private static readonly (string Entry, string Text)[] Files =
    [
        // Deliberately out of order, to check that the corpus sorts like load_files.
        ("20news-bydate-test/sci.space/2", "From: b\n\nTest post.\n"),
        ("20news-bydate-train/sci.space/10", "From: a\n\nCaf\u00e9 na\u00efve \u00b2.\n"),
        ("20news-bydate-train/alt.atheism/9", "From: c\n\nAnother.\n"),
        ("20news-bydate-train/sci.space/1", "From: d\n\nFirst.\n"),
        ("README", "not a post"),
    ];

    [Test]
    public void ReadsEveryPostAsLatin1InArchiveOrderAndSkipsOtherEntries()
    {
        using var temp = new SmallArchive();
        var path = temp.WriteArchive("small.tar.gz", Files);

        var documents = NewsgroupsReader.ReadDocuments(path, verifyCounts: false).ToList();

        Assert.That(documents.Select(d => d.Id.ArchivePath), Is.EqualTo(Files.Take(4).Select(f => f.Entry)));
        Assert.That(documents[1].Text, Is.EqualTo("From: a\n\nCaf\u00e9 na\u00efve \u00b2.\n"));
        Assert.That(documents[1].Id, Is.EqualTo(new NewsgroupsDocumentId(NewsgroupsSubset.Train, "sci.space", "10")));
    }

    [Test]
    public void AFolderIsReadInLoadFilesOrder()
    {
        using var temp = new SmallArchive();
        var path = temp.WriteFolder("extracted", Files.Take(4));

        var documents = NewsgroupsReader.ReadDocuments(path, verifyCounts: false).Select(d => d.Id.ArchivePath).ToList();

        // sorted() of names is ordinal: "10" before "9" would only matter within a folder; "1" < "10".
        Assert.That(documents, Is.EqualTo(new[]
        {
            "20news-bydate-train/alt.atheism/9",
            "20news-bydate-train/sci.space/1",
            "20news-bydate-train/sci.space/10",
            "20news-bydate-test/sci.space/2",
        }));
    }

    [Test]
    public void TheCorpusSortsArchiveEntriesLikeLoadFiles()
    {
        using var temp = new SmallArchive();
        var long1 = "From: x\n\n" + string.Concat(Enumerable.Repeat("first post words ", 10));
        var long2 = "From: x\n\n" + string.Concat(Enumerable.Repeat("second post words ", 10));
        var long3 = "From: x\n\n" + string.Concat(Enumerable.Repeat("third post words ", 10));
        var path = temp.WriteArchive("order.tar.gz", [
            ("20news-bydate-test/a.group/1", long3),
            ("20news-bydate-train/b.group/1", long2),
            ("20news-bydate-train/a.group/5", long1),
        ]);

        var corpus = NewsgroupsCorpus.Load(path, verifyCounts: false);

        Assert.That(corpus.Sources.Select(s => s.ArchivePath), Is.EqualTo(new[]
        {
            "20news-bydate-train/a.group/5", "20news-bydate-train/b.group/1", "20news-bydate-test/a.group/1",
        }));
        Assert.That(corpus.Sequences[0], Does.StartWith("first post words first"));
        Assert.That(corpus.Groups, Is.EqualTo(new[] { "a.group", "b.group" }));
        Assert.That(corpus.GroupIndexOf(1), Is.EqualTo(1));
        Assert.That(corpus.TrainDocuments, Is.EqualTo(2));
        Assert.That(corpus.TestDocuments, Is.EqualTo(1));
    }

    [Test]
    public void AnArchiveWithTheWrongCountsIsRejectedNamingTheFile()
    {
        using var temp = new SmallArchive();
        var path = temp.WriteArchive("small.tar.gz", Files);

        var ex = Assert.Throws<CorpusException>(() => NewsgroupsReader.ReadDocuments(path).ToList());

        Assert.That(ex!.Path, Is.EqualTo(path));
        Assert.That(ex.Message, Does.Contain(path).And.Contain("3 train and 1 test").And.Contain("11314"));
    }

    [Test]
    public void AnArchiveWithNoPostsSaysSo()
    {
        using var temp = new SmallArchive();
        var path = temp.WriteArchive("other.tar.gz", [("docs/readme.txt", "hello")]);

        var ex = Assert.Throws<CorpusException>(() => NewsgroupsReader.ReadDocuments(path).ToList());

        Assert.That(ex!.Message, Does.Contain(path).And.Contain("no 20news-bydate documents"));
    }

    [Test]
    public void AnEmptyFileIsRejectedNamingTheFile()
    {
        using var temp = new SmallArchive();
        var path = temp.WriteBytes("empty.tar.gz", []);

        var ex = Assert.Throws<CorpusException>(() => NewsgroupsReader.ReadDocuments(path).ToList());

        Assert.That(ex!.Message, Does.Contain(path).And.Contain("empty"));
    }

    [Test]
    public void AFileThatIsNotGzipIsRejectedNamingTheFile()
    {
        using var temp = new SmallArchive();
        var path = temp.WriteBytes("fake.tar.gz", "<html>Not found</html>"u8.ToArray());

        var ex = Assert.Throws<CorpusException>(() => NewsgroupsReader.ReadDocuments(path).ToList());

        Assert.That(ex!.Message, Does.Contain(path).And.Contain("not a gzip file"));
    }

    [TestCase(0.5)]
    [TestCase(0.9)]
    [TestCase(0.05)]
    public void ATruncatedArchiveIsRejectedNamingTheFile(double keep)
    {
        using var temp = new SmallArchive();
        var whole = File.ReadAllBytes(temp.WriteArchive("whole.tar.gz", Files));
        var path = temp.WriteBytes("truncated.tar.gz", whole[..Math.Max(3, (int)(whole.Length * keep))]);

        var ex = Assert.Throws<CorpusException>(() => NewsgroupsReader.ReadDocuments(path, verifyCounts: false).ToList());

        Assert.That(ex!.Message, Does.Contain(path).And.Contain("truncated or corrupt"));
        Assert.That(ex.Path, Is.EqualTo(path));
    }

    [Test]
    public void AMissingFileIsRejectedNamingIt()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid().ToString("N") + ".tar.gz");

        var ex = Assert.Throws<CorpusException>(() => NewsgroupsReader.ReadDocuments(path).ToList());

        Assert.That(ex!.Message, Does.Contain(path));
    }

    [TestCase("20news-bydate-train/sci.space/60804", true)]
    [TestCase("./20news-bydate-test/alt.atheism/1", true)]
    [TestCase("20news-bydate-train/sci.space/", false)]
    [TestCase("20news-bydate-train/sci.space", false)]
    [TestCase("20news-bydate-train/a/b/c", false)]
    [TestCase("other/sci.space/1", false)]
    public void EntryNames(string name, bool valid)
    {
        Assert.That(NewsgroupsReader.TryParseEntryName(name, out _), Is.EqualTo(valid));
    }
}
