using System.Text.RegularExpressions;
using NUnit.Framework;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

public sealed partial class DataCommandTests
{
    [Test]
    public void DataOnTheFullCorpusReportsTheNotebooksCounts()
    {
        var result = AppHarness.Run("data", "--data", TestData.CorpusArchive);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("documents: 11314 train, 7532 test, 18846 in all"));
        Assert.That(result.Stdout, Does.Contain("sequences kept: 16828 of 100 characters (16300 distinct)"));
        Assert.That(result.Stdout, Does.Contain("vocabulary: 32 characters \" !,.;?abcdefghijklmnopqrstuvwxyz\""));
        // The notebook on this corpus: 4793 distinct 3-grams among its 168,280 windows (the first 10 of each sequence).
        Assert.That(result.Stdout, Does.Contain("4793 unique, 168280 windows"));
    }

    [Test]
    public void DataOnASliceReportsASplitThatCoversIt()
    {
        var result = AppHarness.Run(["data", "--n", "2", .. AppHarness.DataArgs]);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain("using the first 300"));
        Assert.That(result.Stdout, Does.Contain("n-grams (n=2, first 10 windows per sequence"));
        int train = int.Parse(TrainCount().Match(result.Stdout).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        int validation = int.Parse(ValidationCount().Match(result.Stdout).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(train + validation, Is.EqualTo(AppHarness.Sequences));
        Assert.That(validation, Is.InRange(30, 40), "about 10% held out");
        Assert.That(result.Stdout, Does.Contain($"{train * 10} n-gram windows"), "10 windows per training sequence");
    }

    [Test]
    public void ExportWritesEverySequenceUntrimmedOnePerLine()
    {
        var folder = AppHarness.TempFolder();
        var file = Path.Combine(folder, "sequences.txt");

        var result = AppHarness.Run(["data", "--export", file, .. AppHarness.DataArgs]);

        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        var text = File.ReadAllText(file);
        Assert.That(text, Does.EndWith("\n"));
        var lines = text[..^1].Split('\n');
        Assert.That(lines, Has.Length.EqualTo(AppHarness.Sequences));
        Assert.That(lines.Select(l => l.Length), Is.All.EqualTo(100));
        Assert.That(lines.Count(l => l.EndsWith(' ')), Is.GreaterThan(0), "sequences ending in a space keep it");
        var corpus = Tensorlet.Samples.CharPredict.CorpusData.Load(new(TextWriter.Null, TextWriter.Null, interactive: false), TestData.CorpusArchive, AppHarness.Sequences, 0.1);
        Assert.That(lines, Is.EqualTo(corpus.Sequences), "the first 300 cleaned sequences, in the corpus's order");
        Directory.Delete(folder, true);
    }

    [Test]
    public void ExportingOverTheArchiveItReadsIsRefusedAndTheArchiveKept()
    {
        // A copy, so that a failure of the check cannot harm the shared corpus.
        var folder = AppHarness.TempFolder();
        var archive = Path.Combine(folder, "20news-bydate.tar.gz");
        File.Copy(TestData.CorpusArchive, archive);
        long length = new FileInfo(archive).Length;

        AppHarness.Run("data", "--data", archive, "--max-sequences", "20", "--export", archive).AssertError(1, "is the file this command reads");

        Assert.That(new FileInfo(archive).Length, Is.EqualTo(length));
        Directory.Delete(folder, true);
    }

    [Test]
    public void AMissingDataPathIsOneErrorLine()
    {
        var result = AppHarness.Run("data", "--data", "/nonexistent/tensorlet/20news-bydate.tar.gz");

        result.AssertError(1, "does not exist");
    }

    [Test]
    public void ACorruptArchiveIsOneErrorLine()
    {
        var folder = AppHarness.TempFolder();
        var archive = Path.Combine(folder, "20news-bydate.tar.gz");
        File.WriteAllText(archive, "this is not a gzip file");

        var result = AppHarness.Run("data", "--data", archive);

        result.AssertError(1, "not a gzip file");
        Directory.Delete(folder, true);
    }

    [Test]
    public void ATruncatedArchiveIsOneErrorLine()
    {
        var folder = AppHarness.TempFolder();
        var archive = Path.Combine(folder, "20news-bydate.tar.gz");
        using (var source = File.OpenRead(TestData.CorpusArchive))
        using (var target = File.Create(archive))
        {
            var head = new byte[200_000];
            source.ReadExactly(head);
            target.Write(head);
        }

        var result = AppHarness.Run("data", "--data", archive);

        result.AssertError(1, "truncated or corrupt");
        Directory.Delete(folder, true);
    }

    [GeneratedRegex(@"train: (\d+) sequences")]
    private static partial Regex TrainCount();

    [GeneratedRegex(@"validation: (\d+) sequences")]
    private static partial Regex ValidationCount();
}
