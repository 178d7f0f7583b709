using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Data;

/// <summary>
/// Parity with scikit-learn 1.2.1 + the notebook on the real corpus (TENSORLET_DATA), against the fixtures written by
/// scripts/make_newsgroups_fixture.py: a sample of hard documents compared text for text, and the whole corpus compared
/// through the SHA-256 of all sequences.
/// </summary>
public sealed class NewsgroupsParityTests
{
    private static readonly Lazy<NewsgroupsCorpus> FullCorpus = new(() => NewsgroupsCorpus.Load(TestData.CorpusArchive));

    private static JsonElement Summary => JsonDocument.Parse(File.ReadAllText(TestData.Fixture("newsgroups/summary.json"))).RootElement;

    [Test]
    public void SampleDocumentsMatchScikitLearnRemovalByRemovalAndTheNotebookCleaning()
    {
        var archive = TestData.CorpusArchive;
        // The fixture holds SHA-256s of scikit-learn's outputs, not the texts: no extract of the corpus is committed.
        using var fixture = JsonDocument.Parse(File.ReadAllText(TestData.Fixture("newsgroups/sample_hashes.json")));
        var expected = fixture.RootElement.GetProperty("documents").EnumerateArray().ToDictionary(d => d.GetProperty("path").GetString()!);
        Assert.That(expected, Has.Count.GreaterThan(40));

        int seen = 0;
        int perRemoval = 0;
        foreach (var document in NewsgroupsReader.ReadDocuments(archive))
        {
            if (!expected.TryGetValue(document.Id.ArchivePath, out var entry))
            {
                continue;
            }

            seen++;
            var path = document.Id.ArchivePath;
            var stripped = NewsgroupsStripping.Apply(document.Text, NewsgroupsRemove.All);
            Assert.That(Sha256(stripped), Is.EqualTo(entry.GetProperty("stripped_sha256").GetString()), $"{path}: headers+footers+quotes ({entry.GetProperty("reason")})");
            var cleaned = entry.GetProperty("cleaned_sha256");
            var ours = NotebookCleaning.Clean(stripped);
            Assert.That(ours is null ? null : Sha256(ours), Is.EqualTo(cleaned.ValueKind == JsonValueKind.Null ? null : cleaned.GetString()), $"{path}: cleaned");
            if (entry.TryGetProperty("headers_sha256", out var headers))
            {
                perRemoval++;
                Assert.That(Sha256(NewsgroupsStripping.StripHeader(document.Text)), Is.EqualTo(headers.GetString()), $"{path}: headers only");
                Assert.That(Sha256(NewsgroupsStripping.StripFooter(document.Text)), Is.EqualTo(entry.GetProperty("footers_sha256").GetString()), $"{path}: footers only");
                Assert.That(Sha256(NewsgroupsStripping.StripQuoting(document.Text)), Is.EqualTo(entry.GetProperty("quotes_sha256").GetString()), $"{path}: quotes only");
            }
        }

        Assert.That(seen, Is.EqualTo(expected.Count), "every sampled document is in the archive");
        Assert.That(perRemoval, Is.GreaterThan(30));
    }

    [Test]
    public void TheLoadersSpanPathEqualsTheStringFunctionsForEveryRemovalSet()
    {
        // Load strips and cleans over spans (no intermediate strings); the public string functions are the
        // ones checked against scikit-learn above. Every 8th post, all 8 removal sets.
        int index = 0;
        foreach (var document in NewsgroupsReader.ReadDocuments(TestData.CorpusArchive))
        {
            if (index++ % 8 != 0)
            {
                continue;
            }

            for (int flags = 0; flags < 8; flags++)
            {
                var remove = (NewsgroupsRemove)flags;
                var expected = NotebookCleaning.Clean(NewsgroupsStripping.Apply(document.Text, remove));
                var actual = NewsgroupsCorpus.StripAndClean(document.Text, remove);
                if (actual != expected)
                {
                    Assert.Fail($"{document.Id} with {remove}: \"{actual}\" instead of \"{expected}\"");
                }
            }
        }

        Assert.That(index, Is.EqualTo(18846));
    }

    [Test]
    public void TheWholeCorpusGivesScikitLearnsCountsAndTheNotebooksSequencesExactly()
    {
        var corpus = FullCorpus.Value;
        var summary = Summary;

        Assert.That(corpus.TrainDocuments, Is.EqualTo(11314));
        Assert.That(corpus.TestDocuments, Is.EqualTo(7532));
        Assert.That(corpus.Documents, Is.EqualTo(18846));
        Assert.That(corpus.Groups, Has.Count.EqualTo(20));
        Assert.That(corpus.Groups, Is.EqualTo(summary.GetProperty("groups").EnumerateArray().Select(g => g.GetString())));
        Assert.That(corpus.Sequences, Has.Count.EqualTo(16828));
        Assert.That(corpus.Sequences.All(s => s.Length == 100), Is.True);
        Assert.That(corpus.Sequences.Distinct().Count(), Is.EqualTo(16300));
        Assert.That(corpus.BuildVocabulary().Serialize(), Is.EqualTo(" !,.;?abcdefghijklmnopqrstuvwxyz"));
        Assert.That(Sha256(corpus.Sequences), Is.EqualTo(summary.GetProperty("sequences_sha256").GetString()));
    }

    [TestCase(NewsgroupsSubset.Train, "train")]
    [TestCase(NewsgroupsSubset.Test, "test")]
    public void EachSubsetMatchesToo(NewsgroupsSubset subset, string name)
    {
        var corpus = NewsgroupsCorpus.Load(TestData.CorpusArchive, subset);
        var expected = Summary.GetProperty("subsets").GetProperty(name);

        Assert.That(corpus.Sequences, Has.Count.EqualTo(expected.GetProperty("sequences").GetInt32()));
        Assert.That(Sha256(corpus.Sequences), Is.EqualTo(expected.GetProperty("sha256").GetString()));
        Assert.That(corpus.Sources.All(s => s.Split == subset), Is.True);
    }

    [TestCase(NewsgroupsSubset.Train, "train")]
    [TestCase(NewsgroupsSubset.Test, "test")]
    [TestCase(NewsgroupsSubset.All, "all")]
    public void ScikitLearnsShuffledOrderIsReproduced(NewsgroupsSubset subset, string name)
    {
        // The order of fetch_20newsgroups(subset, remove=all three) with its default shuffle=True, random_state=42.
        var corpus = NewsgroupsCorpus.Load(TestData.CorpusArchive, subset, order: NewsgroupsOrder.ScikitLearnShuffled);
        var expected = Summary.GetProperty("scikit_learn_shuffled_order").GetProperty(name);
        var firstDocuments = expected.GetProperty("first_documents").EnumerateArray().Select(d => d.GetString()).ToList();

        Assert.That(corpus.Order, Is.EqualTo(NewsgroupsOrder.ScikitLearnShuffled));
        Assert.That(corpus.Sequences, Has.Count.EqualTo(expected.GetProperty("sequences").GetInt32()));
        Assert.That(Sha256(corpus.Sequences), Is.EqualTo(expected.GetProperty("sha256").GetString()));

        // The first kept sequences come from the first of those documents that are kept.
        var firstSources = corpus.Sources.Take(2).Select(s => s.ArchivePath).ToList();
        Assert.That(firstDocuments, Is.SupersetOf(firstSources));
    }

    [TestCase(2, 584)]
    [TestCase(3, 4793)]
    [TestCase(4, 16674)]
    [TestCase(5, 35232)]
    public void NgramCountsMatchTheNotebook(int n, int expectedNgrams)
    {
        var corpus = FullCorpus.Value;
        var ngrams = NgramVocabulary.FromSequences(corpus.Sequences, n);
        var dataset = NgramDataset.Create(corpus.Sequences, corpus.BuildVocabulary(), ngrams);

        Assert.That(ngrams.Count, Is.EqualTo(expectedNgrams));
        Assert.That(ngrams.Count, Is.EqualTo(Summary.GetProperty("ngram_vocabulary_first10_windows").GetProperty(n.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetInt32()));
        Assert.That(dataset.Count, Is.EqualTo(168_280));
        Assert.That(dataset.SkippedWindows, Is.Zero);
    }

    [Test]
    public void TheDefaultValidationSplitHoldsOutTenPercentWithRepostsOnOneSide()
    {
        var corpus = FullCorpus.Value;
        var split = ValidationSplit.Create(corpus.Sequences);
        var held = split.Validation.Select(i => corpus.Sequences[i]).ToHashSet(StringComparer.Ordinal);

        TestContext.Out.WriteLine($"train {split.Train.Length}, validation {split.Validation.Length}");
        Assert.That(split.Validation.Length, Is.InRange(1683, 1700));
        Assert.That(split.Train.Length + split.Validation.Length, Is.EqualTo(16828));
        Assert.That(split.Train.Count(i => held.Contains(corpus.Sequences[i])), Is.Zero);
    }

    [Test]
    public void ExportWritesOneUntrimmedSequencePerLine()
    {
        var corpus = FullCorpus.Value;
        var writer = new StringWriter();
        corpus.WriteSequences(writer);
        var lines = writer.ToString().Split('\n');

        Assert.That(lines, Has.Length.EqualTo(16829));
        Assert.That(lines[^1], Is.Empty);
        Assert.That(lines[..^1], Is.EqualTo(corpus.Sequences));
        Assert.That(corpus.Sequences.Count(s => s.EndsWith(' ')), Is.GreaterThan(0), "some sequences end in a space and must stay so");
    }

    [Test]
    public void TheLoadedCorpusHoldsWellUnderTenMegabytes()
    {
        // Only the sequences and their sources stay: 16828 × (a 100-char string + an id) ≈ 5 MB.
        // The raw text (36.5 MB as bytes, 73 MB as .NET strings) is never held.
        var archive = TestData.CorpusArchive;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var corpus = NewsgroupsCorpus.Load(archive);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(corpus);

        double megabytes = (after - before) / 1e6;
        TestContext.Out.WriteLine($"retained by the corpus: {megabytes:F2} MB");
        Assert.That(megabytes, Is.LessThan(10));
    }

    [Test]
    public void TheRealArchiveCutShortGivesOneClearError()
    {
        using var temp = new SmallArchive();
        var whole = File.ReadAllBytes(TestData.CorpusArchive);
        var path = temp.WriteBytes("cut.tar.gz", whole[..(whole.Length / 2)]);

        var ex = Assert.Throws<CorpusException>(() => NewsgroupsCorpus.Load(path));

        Assert.That(ex!.Message, Does.Contain(path));
    }

    private static string Sha256(IReadOnlyList<string> sequences)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join('\n', sequences))));

    private static string Sha256(string text)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
