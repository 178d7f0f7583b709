using NUnit.Framework;

namespace Tensorlet.Tests.Packaging;

/// <summary>
/// The library example in the docs is the code that samples/Consumer compiles against the packages and CI
/// runs, so it cannot drift: the C# block after the example marker must equal the region between
/// <c>// &lt;example&gt;</c> and <c>// &lt;/example&gt;</c> in samples/Consumer/Program.cs. The block is looked
/// for in README.md when it holds the marker (once docs/library.md is merged into it), else in docs/library.md.
/// </summary>
public sealed class ReadmeExampleTests
{
    private const string Marker = "<!-- example: samples/Consumer/Program.cs -->";

    [Test]
    public void DocsExampleEqualsTheConsumerProgram()
    {
        var root = RepositoryRoot();
        var program = Normalize(File.ReadAllText(Path.Combine(root, "samples", "Consumer", "Program.cs")));
        var region = Between(program, "// <example>\n", "// </example>", "samples/Consumer/Program.cs");

        var readme = Path.Combine(root, "README.md");
        var doc = File.Exists(readme) && File.ReadAllText(readme).Contains(Marker, StringComparison.Ordinal)
            ? readme
            : Path.Combine(root, "docs", "library.md");
        var text = Normalize(File.ReadAllText(doc));
        int marker = text.IndexOf(Marker, StringComparison.Ordinal);
        Assert.That(marker, Is.GreaterThanOrEqualTo(0), $"{doc} has no '{Marker}' line before the example.");
        var block = Between(text[marker..], Marker + "\n```csharp\n", "```", doc);

        Assert.That(block, Is.EqualTo(region), $"The C# example in {doc} differs from the example region of samples/Consumer/Program.cs; copy the region into the doc.");
        Assert.That(region.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.InRange(10, 40), "The example region looks wrong (markers misplaced?).");
    }

    private static string Between(string text, string start, string end, string where)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.That(from, Is.GreaterThanOrEqualTo(0), $"{where}: '{start.TrimEnd()}' not found.");
        from += start.Length;
        int to = text.IndexOf(end, from, StringComparison.Ordinal);
        Assert.That(to, Is.GreaterThanOrEqualTo(0), $"{where}: '{end}' not found after '{start.TrimEnd()}'.");
        return text[from..to];
    }

    // Line endings and trailing spaces are not content.
    private static string Normalize(string text)
        => string.Join('\n', text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(line => line.TrimEnd()));

    private static string RepositoryRoot()
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
