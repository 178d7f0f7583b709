using NUnit.Framework;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>Finds the real corpus and the committed fixtures.</summary>
public static class TestData
{
    private const string ArchiveName = "20news-bydate.tar.gz";

    private static readonly Lazy<string?> Archive = new(FindArchive);

    /// <summary>
    /// The real 20news-bydate.tar.gz: in the folder TENSORLET_DATA names or, without that variable (or with it empty), in
    /// <c>shared/data</c> beside the repository or beside any folder above it (where .ci/run and the project's
    /// machines keep it). The test is skipped, saying where it looked, when neither has it.
    /// </summary>
    public static string CorpusArchive
    {
        get
        {
            var path = Archive.Value;
            if (path is null)
            {
                Assert.Ignore($"This test needs the real corpus, {ArchiveName}: set TENSORLET_DATA to the folder that holds it " +
                    $"(looked in {Describe(Environment.GetEnvironmentVariable("TENSORLET_DATA"))} and in shared/data above {RepositoryRoot() ?? TestContext.CurrentContext.TestDirectory}).");
            }

            return path!;
        }
    }

    /// <summary>The folder that holds the corpus archive, or null when it is not found (see <see cref="CorpusArchive"/>).</summary>
    public static string? CorpusFolder => Archive.Value is { } path ? Path.GetDirectoryName(path) : null;

    /// <summary>The path of a committed fixture file, copied beside the test assembly.</summary>
    public static string Fixture(string relativePath)
    {
        var path = Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", relativePath);
        Assert.That(File.Exists(path), Is.True, $"Fixture {relativePath} is missing: regenerate it with the script in scripts/.");
        return path;
    }

    private static string? FindArchive()
    {
        var variable = Environment.GetEnvironmentVariable("TENSORLET_DATA");
        if (!string.IsNullOrWhiteSpace(variable))
        {
            var path = Path.Combine(variable, ArchiveName);
            return File.Exists(path) ? Path.GetFullPath(path) : null;
        }

        for (var folder = RepositoryRoot() is { } root ? new DirectoryInfo(root) : null; folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "shared", "data", ArchiveName);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    // The folder holding Tensorlet.sln, above the test assembly.
    private static string? RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Tensorlet.sln")))
            {
                return folder.FullName;
            }
        }

        return null;
    }

    // Empty or whitespace counts as unset, as the library's NewsgroupsArchive takes it.
    private static string Describe(string? variable) => variable switch
    {
        null => "TENSORLET_DATA (unset)",
        _ when string.IsNullOrWhiteSpace(variable) => "TENSORLET_DATA (set but empty and so ignored)",
        _ => $"TENSORLET_DATA={variable}",
    };
}
