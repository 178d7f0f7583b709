using NUnit.Framework;

namespace Tensorlet.Tests.NewsgroupClassifier;

/// <summary>
/// samples/NewsgroupClassifier's command line: a bad option is one "error: ... (see --help)" line and exit code 2, given
/// when the command line is parsed, before the corpus is read.
/// </summary>
public sealed class NewsgroupClassifierCommandLineTests
{
    // A folder with no corpus: an option that got past the parser would fail there, with another message.
    private static readonly string NoCorpus = Path.Combine(Path.GetTempPath(), "tensorlet-no-such-corpus");

    [TestCase("NaN")]
    [TestCase("Infinity")]
    [TestCase("-Infinity")]
    [TestCase("1e99")] // too large for a float: it parses as infinity
    public void ANonFiniteLearningRateIsAUsageError(string value)
    {
        var result = NewsgroupClassifierApp.Run(["--lr", value, "--data", NoCorpus]);

        result.AssertOneLineError(2, "--lr must be a finite number");
        Assert.That(result.Stderr, Does.EndWith("(see --help)\n"));
    }
}
