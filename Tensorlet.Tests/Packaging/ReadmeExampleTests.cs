using NUnit.Framework;

namespace Tensorlet.Tests.Packaging;

/// <summary>
/// The library example in the docs is the code that samples/Consumer compiles against the packages and CI
/// runs, so it cannot drift: the C# block after the example marker must equal the region between
/// <c>// &lt;example&gt;</c> and <c>// &lt;/example&gt;</c> in samples/Consumer/Program.cs, in README.md's
/// "Use it as a library" section.
/// </summary>
public sealed class ReadmeExampleTests
{
    private const string Marker = "<!-- example: samples/Consumer/Program.cs -->";

    [Test]
    public void DocsExampleEqualsTheConsumerProgram()
    {
        var root = DocText.RepositoryRoot();
        var program = DocText.Normalize(File.ReadAllText(Path.Combine(root, "samples", "Consumer", "Program.cs")));
        var region = DocText.Between(program, "// <example>\n", "// </example>", "samples/Consumer/Program.cs");

        var doc = Path.Combine(root, "README.md");
        var text = DocText.Normalize(File.ReadAllText(doc));
        int marker = text.IndexOf(Marker, StringComparison.Ordinal);
        Assert.That(marker, Is.GreaterThanOrEqualTo(0), $"{doc} has no '{Marker}' line before the example.");
        var block = DocText.Between(text[marker..], Marker + "\n```csharp\n", "```", doc);

        Assert.That(block, Is.EqualTo(region), $"The C# example in {doc} differs from the example region of samples/Consumer/Program.cs; copy the region into the doc.");
        Assert.That(region.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.InRange(10, 40), "The example region looks wrong (markers misplaced?).");
    }
}
