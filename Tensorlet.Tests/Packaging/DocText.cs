using NUnit.Framework;

namespace Tensorlet.Tests.Packaging;

/// <summary>Reads code examples out of docs and sources, for the tests that keep the two equal.</summary>
internal static class DocText
{
    /// <summary>The text between <paramref name="start"/> and the next <paramref name="end"/>, failing the test when either is missing.</summary>
    public static string Between(string text, string start, string end, string where)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.That(from, Is.GreaterThanOrEqualTo(0), $"{where}: '{start.TrimEnd()}' not found.");
        from += start.Length;
        int to = text.IndexOf(end, from, StringComparison.Ordinal);
        Assert.That(to, Is.GreaterThanOrEqualTo(0), $"{where}: '{end}' not found after '{start.TrimEnd()}'.");
        return text[from..to];
    }

    /// <summary>The repository file at <paramref name="parts"/> (relative to its root), <see cref="Normalize"/>d.</summary>
    public static string Read(params string[] parts) => Normalize(File.ReadAllText(Path.Combine([RepositoryRoot(), .. parts])));

    /// <summary>The C# block a doc quotes after <paramref name="marker"/> (its <c>&lt;!-- example: ... --&gt;</c> line).</summary>
    public static string QuotedBlock(string doc, string marker, string where) => Between(doc, marker + "\n```csharp\n", "```", where);

    /// <summary>The text with \n line endings and no trailing spaces: neither is content.</summary>
    public static string Normalize(string text)
        => string.Join('\n', text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(line => line.TrimEnd()));

    /// <summary>The folder holding Tensorlet.sln, above the test directory.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tensorlet.sln")))
            {
                return dir.FullName;
            }
        }

        Assert.Fail("Tensorlet.sln not found above the test directory.");
        return string.Empty;
    }
}
