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
    // A 512 MiB managed heap reads and cleans the corpus, but cannot hold 2,000 + 2,000 posts of 150,000 character ids
    // (2.4 GB). The run allocated until the runtime ran out ("out of memory", naming no size); it is now refused first,
    // with the estimate and the limit.
    [Test]
    public void ARunThatCannotFitIsRefusedBeforeAllocating()
    {
        string corpus = TestData.CorpusArchive;

        var result = NewsgroupClassifierApp.Run(
            ["--data", corpus, "--limit", "2000", "--epochs", "1", "--max-chars", "150000", "--hidden", "8", "--batch", "4"],
            ("DOTNET_GCHeapHardLimit", "0x20000000"));

        Assert.That(result.Stdout, Does.Contain("2000 train and 2000 test posts"), "the corpus was read before the estimate");
        Assert.That(result.Stdout, Does.Not.Contain("→ LSTM(8)"), "refused before the model was built");
        result.AssertOneLineError(
            1,
            "Training on 4000 posts of 150000 characters with --batch 4, --hidden 8 and --embedding 32 needs about 2.6 GiB (2.2 GiB of character ids, 0.4 GiB for the model and its activations); this process may use 0.5 GiB. Use a smaller --max-chars, --limit, --batch, --hidden or --embedding.");
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
