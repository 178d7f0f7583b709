using NUnit.Framework;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary><c>sample</c> writes each character as it is made, and Ctrl+C stops it cleanly.</summary>
public sealed class SampleStreamingTests
{
    [TestCase("lstm")]
    [TestCase("ngram")]
    public void SampleWritesCharactersAsTheyAreMadeAndStopsCleanlyOnCancellation(string model)
    {
        using var stop = new CancellationTokenSource();
        using var stdout = new CancellingWriter(stop, afterCharacters: 5);
        using var stderr = new StringWriter();
        string checkpoint = Path.Combine(AppHarness.SharedRun, model + ".safetensors");

        int code = CharPredictApp.Run(["sample", "--checkpoint", checkpoint, "--start", "the ", "--length", "10000000", "--device", "cpu"], stdout, stderr, stop.Token);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(CharPredictApp.Stopped), stderr.ToString());
            Assert.That(stderr.ToString(), Is.Empty);
            Assert.That(stdout.ToString(), Has.Length.EqualTo("the ".Length + 5 + Environment.NewLine.Length), "five characters, then the line ends");
            Assert.That(stdout.ToString(), Does.StartWith("the ").And.EndWith(Environment.NewLine));
        });
    }

    [Test]
    public void AStreamedSampleIsTheSameTextAsAGeneratedOne()
    {
        string checkpoint = Path.Combine(AppHarness.SharedRun, "lstm.safetensors");
        var first = AppHarness.Run("sample", "--checkpoint", checkpoint, "--length", "50", "--seed", "7", "--device", "cpu");
        var second = AppHarness.Run("sample", "--checkpoint", checkpoint, "--length", "50", "--seed", "7", "--device", "cpu");

        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(first.Stdout.TrimEnd(), Has.Length.EqualTo(54));
        Assert.That(second.Stdout, Is.EqualTo(first.Stdout), "the same seed gives the same text");
    }

    // Cancels (as Ctrl+C would) once the given number of generated characters have been written one by one (each a
    // write of one character: a char, or a string of one Unicode scalar such as an emoji's two code units).
    private sealed class CancellingWriter(CancellationTokenSource stop, int afterCharacters) : StringWriter
    {
        private int characters;

        public override void Write(char value)
        {
            base.Write(value);
            Count();
        }

        public override void Write(string? value)
        {
            base.Write(value);
            if (value is not null && value.EnumerateRunes().Count() == 1)
            {
                Count();
            }
        }

        private void Count()
        {
            if (++characters == afterCharacters)
            {
                stop.Cancel();
            }
        }
    }
}
