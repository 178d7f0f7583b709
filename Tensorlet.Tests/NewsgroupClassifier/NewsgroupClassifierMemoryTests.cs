using NUnit.Framework;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.NewsgroupClassifier;

/// <summary>
/// samples/NewsgroupClassifier asked for a batch larger than a tensor holds or more memory than there is (exit code 1;
/// weights larger than a tensor holds are a command-line error, see NewsgroupClassifierCommandLineTests): one line naming
/// the options to lower, before anything that size is allocated.
/// </summary>
public sealed class NewsgroupClassifierMemoryTests
{
    [Test]
    public void OutOfMemoryIsOneLine()
    {
        string corpus = TestData.CorpusArchive;

        // A 512 MiB managed heap reads and cleans the corpus, but cannot hold 2,000 train posts of 150,000 character ids
        // (1.2 GB); unlimited, the same run would only take long.
        var result = NewsgroupClassifierApp.Run(
            ["--data", corpus, "--limit", "2000", "--epochs", "1", "--max-chars", "150000", "--hidden", "8", "--batch", "4"],
            ("DOTNET_GCHeapHardLimit", "0x20000000"));

        Assert.That(result.Stdout, Does.Contain("2000 train and 2000 test posts"), "the corpus was read before memory ran out");
        result.AssertOneLineError(1, "error: out of memory; use a smaller --batch, --hidden or --max-chars");
    }

    // At the --max-chars limit, the default batch (64) and --hidden (128) make LSTM gates of 150,000 × 64 × 512 values,
    // which overflowed the library's checked int arithmetic (an OverflowException and its stack trace). The batch is at
    // most the posts there are, so this is known once the corpus is read: a failed run, exit code 1.
    [Test]
    public void ABatchLargerThanATensorHoldsIsOneLine()
    {
        string corpus = TestData.CorpusArchive;

        var result = NewsgroupClassifierApp.Run(["--data", corpus, "--limit", "100", "--epochs", "1", "--max-chars", "150000"]);

        result.AssertOneLineError(1, "The LSTM's gates for a batch of 64 posts of 150000 characters with --hidden 128 are 4,915,200,000 values");
        Assert.That(result.Stderr, Does.Contain("one tensor holds at most 2,147,483,647. Use a smaller --batch, --hidden, --embedding or --max-chars."));
    }
}
