using NUnit.Framework;

namespace Tensorlet.Tests.App;

/// <summary><c>sample</c>'s --temperature 0 (argmax), --top-k and --start @FILE.</summary>
public sealed class SampleChoiceTests
{
    [TestCase("lstm")]
    [TestCase("ngram")]
    public void TemperatureZeroIsTheArgmaxAndTopOneIsTheSame(string model)
    {
        string checkpoint = Path.Combine(AppHarness.SharedRun, model + ".safetensors");
        string[] common = ["sample", "--checkpoint", checkpoint, "--start", "the ", "--length", "40", "--device", "cpu"];

        var greedy = AppHarness.Run([.. common, "--temperature", "0", "--seed", "3"]);
        var greedyOtherSeed = AppHarness.Run([.. common, "--temperature", "0", "--seed", "2"]);
        var topOne = AppHarness.Run([.. common, "--temperature", "1.5", "--top-k", "1", "--seed", "3"]);
        var free = AppHarness.Run([.. common, "--temperature", "1.5", "--seed", "3"]);

        Assert.That(greedy.ExitCode, Is.Zero, greedy.ToString());
        Assert.That(greedy.Stdout.TrimEnd(), Has.Length.EqualTo(44));
        Assert.That(topOne.Stdout, Is.EqualTo(greedy.Stdout), "top-1 at any temperature is the argmax");
        Assert.That(free.Stdout, Is.Not.EqualTo(greedy.Stdout), "without top-k, temperature 1.5 draws other characters");
        if (model == "lstm")
        {
            // The LSTM draws nothing at temperature 0 (the n-gram model still substitutes unknown contexts at random).
            Assert.That(greedyOtherSeed.Stdout, Is.EqualTo(greedy.Stdout), "temperature 0 does not depend on the seed");
        }
    }

    [Test]
    public void TheStartTextCanComeFromAFile()
    {
        string checkpoint = Path.Combine(AppHarness.SharedRun, "lstm.safetensors");
        string folder = AppHarness.TempFolder();
        string file = Path.Combine(folder, "start.txt");
        File.WriteAllText(file, "the cat ");

        var fromFile = AppHarness.Run("sample", "--checkpoint", checkpoint, "--start", "@" + file, "--length", "20", "--seed", "4", "--device", "cpu");
        var inline = AppHarness.Run("sample", "--checkpoint", checkpoint, "--start", "the cat ", "--length", "20", "--seed", "4", "--device", "cpu");

        Assert.That(fromFile.ExitCode, Is.Zero, fromFile.ToString());
        Assert.That(fromFile.Stdout, Is.EqualTo(inline.Stdout));
        AppHarness.Run("sample", "--checkpoint", checkpoint, "--start", "@" + Path.Combine(folder, "missing.txt"), "--device", "cpu")
            .AssertError(1, "missing.txt");
        Assert.That(AppHarness.Run("sample", "--checkpoint", checkpoint, "--top-k", "-1", "--device", "cpu").ExitCode, Is.EqualTo(2));
    }
}
