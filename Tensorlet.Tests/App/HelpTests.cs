using System.Text.RegularExpressions;
using NUnit.Framework;
using Tensorlet.Tests.Packaging;

namespace Tensorlet.Tests.App;

/// <summary>
/// <c>--help</c> and docs/app.md name the same user flags: README.md sends users to app.md for every flag, and a flag a
/// user may need (one that config.json records or an error message names) is listed by <c>--help</c>.
/// </summary>
public sealed partial class HelpTests
{
    private static readonly string[] Commands = ["train", "sample", "compare", "eval", "data", "export"];

    [Test]
    public void MaxSequencesIsListedByTheCommandsThatTakeIt()
    {
        foreach (var command in new[] { "train", "data" })
        {
            Assert.That(HelpFlags(command), Does.Contain("--max-sequences"), $"{command} --help");
        }
    }

    [TestCaseSource(nameof(Commands))]
    public void EveryFlagTheHelpListsIsInAppMd(string command)
    {
        var appMd = DocText.Read("docs", "app.md");
        var flags = HelpFlags(command);
        Assert.That(flags, Is.Not.Empty, $"{command} --help lists no flags");
        var missing = flags.Where(f => !Regex.IsMatch(appMd, Regex.Escape(f) + "(?![a-z-])")).ToArray();
        Assert.That(missing, Is.Empty, $"{command} flags that docs/app.md does not name");
    }

    // The long flags of the command's --help, but --help itself.
    private static string[] HelpFlags(string command)
    {
        var result = AppHarness.Run(command, "--help");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        return [.. result.Stdout.Split('\n').Select(line => OptionLine().Match(line)).Where(m => m.Success)
            .Select(m => m.Groups[1].Value).Where(f => f != "--help")];
    }

    [GeneratedRegex(@"^\s+(?:-\S+,\s+)*(--[a-z][a-z-]*)")]
    private static partial Regex OptionLine();
}
