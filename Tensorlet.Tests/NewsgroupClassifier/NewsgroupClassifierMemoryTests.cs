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
    // A 512 MiB managed heap reads and cleans the corpus, but cannot hold what these runs need:
    // - the LSTM, 2,000 + 2,000 posts of 150,000 character ids (2.4 GB). The run allocated until the runtime ran out
    //   ("out of memory", naming no size); it is refused first, with the estimate and the limit;
    // - the CNN with wide convolutions over few embedded values, 0.8 GiB of activations of its own (what the LSTM's
    //   count, 3 × E + 10 × H floats per character, makes 0.2 GiB).
    [TestCase(
        new[] { "--model", "lstm", "--limit", "2000", "--max-chars", "150000", "--hidden", "8", "--batch", "4" },
        "2000 train and 2000 test posts",
        "→ LSTM(8)",
        "Training on 4000 posts of 150000 characters with --batch 4, --hidden 8 and --embedding 32 needs about 2.6 GiB (2.2 GiB of character ids, 0.4 GiB for the model and its activations); this process may use 0.5 GiB. Use a smaller --max-chars, --limit, --batch, --hidden or --embedding.")]
    [TestCase(
        new[] { "--limit", "200", "--max-chars", "4000", "--channels", "512", "--embedding", "8", "--batch", "8" },
        "200 train and 200 test posts",
        "→ Conv1d(",
        "Training on 400 posts of 4000 characters with --batch 8, --channels 512 and --embedding 8 needs about 0.8 GiB (0.0 GiB of character ids, 0.8 GiB for the model and its activations); this process may use 0.5 GiB. Use a smaller --max-chars, --limit, --batch, --channels or --embedding.")]
    public void ARunThatCannotFitIsRefusedBeforeAllocating(string[] options, string posts, string model, string message)
    {
        string corpus = TestData.CorpusArchive;

        var result = NewsgroupClassifierApp.Run(["--data", corpus, "--epochs", "1", .. options], ("DOTNET_GCHeapHardLimit", "0x20000000"));

        Assert.That(result.Stdout, Does.Contain(posts), "the corpus was read before the estimate");
        Assert.That(result.Stdout, Does.Not.Contain(model), "refused before the model was built");
        result.AssertOneLineError(1, message);
    }

    // At the --max-chars limit and the default batch (64), the LSTM's gates of 150,000 × 64 × 512 values (--hidden 128)
    // overflowed the library's checked int arithmetic (an OverflowException and its stack trace), and the CNN's first
    // unfolded input of 150,000 × 64 × 7 × 32 values (--embedding 32) is more than a tensor holds too: each is refused
    // naming the options to lower. The batch is at most the posts there are, so this is known once the corpus is read:
    // a failed run, exit code 1.
    [TestCase("lstm", "The LSTM's gates for a batch of 64 posts of 150000 characters with --hidden 128 are 4,915,200,000 values", "--hidden")]
    [TestCase("cnn", "The first convolution's unfolded input for a batch of 64 posts of 150000 characters embedded with --embedding 32 are 2,150,400,000 values", "--channels")]
    public void ABatchLargerThanATensorHoldsIsOneLine(string model, string message, string width)
    {
        string corpus = TestData.CorpusArchive;

        var result = NewsgroupClassifierApp.Run(["--data", corpus, "--model", model, "--limit", "100", "--epochs", "1", "--max-chars", "150000"]);

        result.AssertOneLineError(1, message);
        Assert.That(result.Stderr, Does.Contain($"one tensor holds at most 2,147,483,647. Use a smaller --batch, {width}, --embedding or --max-chars."));
    }
}
