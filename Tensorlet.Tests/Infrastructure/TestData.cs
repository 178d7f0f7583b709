using NUnit.Framework;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>Finds the real corpus and the committed fixtures.</summary>
public static class TestData
{
    /// <summary>The real 20news-bydate.tar.gz from TENSORLET_DATA; the test is skipped without it.</summary>
    public static string CorpusArchive
    {
        get
        {
            var folder = Environment.GetEnvironmentVariable("TENSORLET_DATA");
            var path = folder is null ? null : Path.Combine(folder, "20news-bydate.tar.gz");
            if (path is null || !File.Exists(path))
            {
                Assert.Ignore("TENSORLET_DATA does not point at a folder holding 20news-bydate.tar.gz.");
            }

            return path!;
        }
    }

    /// <summary>The path of a committed fixture file, copied beside the test assembly.</summary>
    public static string Fixture(string relativePath)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", relativePath);
        Assert.That(File.Exists(path), Is.True, $"Fixture {relativePath} is missing: regenerate it with the script in scripts/.");
        return path;
    }
}
