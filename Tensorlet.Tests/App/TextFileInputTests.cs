using System.Diagnostics;
using System.Text;
using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.App;

/// <summary>
/// The text files the app reads (train --text, sample --start @FILE) through the one UTF-8 reader: what it says of a
/// folder, invalid UTF-8, a UTF-16 file and an endless file, in one line.
/// </summary>
public sealed class TextFileInputTests
{
    private string folder = null!;
    private string checkpoint = null!;

    [OneTimeSetUp]
    public void CreateFolder()
    {
        folder = AppHarness.TempFolder();

        // A tiny LSTM trained on a text of its own, so that these tests need no corpus.
        string text = Path.Combine(folder, "train.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 40)));
        var runs = Path.Combine(folder, "runs");
        var trained = AppHarness.Run(
            "train", "--text", text, "--model", "lstm", "--lstm-hidden", "4", "--lstm-layers", "1", "--epochs", "1", "--max-batches", "1",
            "--batch", "4", "--seq-len", "8", "--sample-length", "0", "--device", "cpu", "--threads", "1", "--runs-dir", runs);
        Assert.That(trained.ExitCode, Is.Zero, trained.ToString());
        checkpoint = Path.Combine(AppHarness.OnlyRun(runs), "lstm.safetensors");
    }

    [OneTimeTearDown]
    public void DeleteFolder()
    {
        if (folder is not null && Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void AStopAskedForWhileTheDataLoadsEndsBeforeAnyBatchAndMakesNoRunFolder()
    {
        // Ctrl+C or SIGTERM during a long load: the token is already cancelled when training would begin.
        string text = Path.Combine(folder, "train.txt");
        var runs = Path.Combine(folder, "stopped-runs");
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var result = AppHarness.Run(
            stop.Token, "train", "--text", text, "--model", "lstm", "--lstm-hidden", "4", "--lstm-layers", "1", "--epochs", "1",
            "--batch", "4", "--seq-len", "8", "--sample-length", "0", "--device", "cpu", "--threads", "1", "--runs-dir", runs);
        Assert.That(result.ExitCode, Is.EqualTo(130), result.ToString());
        Assert.That(result.Stdout, Does.Contain("Stopped before training began; no run folder was made."));
        Assert.That(Directory.Exists(runs) ? Directory.GetDirectories(runs) : [], Is.Empty, "no run folder");
    }

    [TestCase(new byte[] { 0xFF, 0xFE }, "0xFF 0xFE")]
    [TestCase(new byte[] { 0xFE, 0xFF }, "0xFE 0xFF")]
    public void AUtf16TextIsNamedAsUtf16(byte[] byteOrderMark, string shown)
    {
        string path = Path.Combine(folder, $"utf16-{byteOrderMark[0]:X2}.txt");
        var encoding = byteOrderMark[0] == 0xFF ? Encoding.Unicode : Encoding.BigEndianUnicode;
        File.WriteAllBytes(path, [.. byteOrderMark, .. encoding.GetBytes("hello world")]);
        var runs = Path.Combine(folder, "utf16-runs");

        var result = AppHarness.Run("train", "--text", path, "--model", "lstm", "--device", "cpu", "--runs-dir", runs);

        result.AssertError(1, $"looks like UTF-16 (it starts with the byte-order mark {shown}); convert it to UTF-8");
        Assert.That(Directory.Exists(runs) ? Directory.GetDirectories(runs) : [], Is.Empty, "no run folder");
    }

    [Test]
    [CancelAfter(10_000)]
    public void AnEndlessTextStopsAtTheLimit()
    {
        if (!File.Exists("/dev/zero"))
        {
            Assert.Ignore("The test reads /dev/zero, an endless file; this system has none.");
        }

        // The app's limit is 2^31 characters; a smaller one shows, in milliseconds, that counting stops where it is crossed.
        var watch = Stopwatch.StartNew();
        var ex = Assert.Throws<CorpusException>(() => TextCorpus.Load("/dev/zero", lowercase: false, maxCharacters: 3_000_000));
        Assert.That(ex!.Message, Is.EqualTo("/dev/zero holds more than 3,000,000 characters; at most that many fit."));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "reading stops at the limit");
    }

    [Test]
    public void AStartTextFileIsReadAsTheTextIs()
    {
        string bad = Path.Combine(folder, "bad.txt");
        File.WriteAllBytes(bad, [.. "hello"u8, 0xFF, .. "world"u8]);
        string utf16 = Path.Combine(folder, "start-utf16.txt");
        File.WriteAllBytes(utf16, [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("the ")]);
        string start = Path.Combine(folder, "start.txt");
        File.WriteAllBytes(start, [0xEF, 0xBB, 0xBF, .. "the cat "u8]);

        Sample("@" + folder).AssertError(1, $"--start @{folder}: {folder} is a folder; give a UTF-8 text file.");
        Sample("@" + bad).AssertError(1, $"--start @{bad}: {bad}: invalid UTF-8 at byte offset 5 (0xFF); the text must be UTF-8.");
        Sample("@" + utf16).AssertError(1, "looks like UTF-16");
        Sample("@" + Path.Combine(folder, "missing.txt")).AssertError(1, "missing.txt does not exist");
        var fromFile = Sample("@" + start);
        Assert.That(fromFile.ExitCode, Is.Zero, fromFile.ToString());
        Assert.That(fromFile.Stdout, Does.StartWith("the cat "), "the byte-order mark is not text");
    }

    [Test]
    [CancelAfter(10_000)]
    public void AnEndlessStartTextStopsAtTheLimit()
    {
        if (!File.Exists("/dev/zero"))
        {
            Assert.Ignore("The test reads /dev/zero, an endless file; this system has none.");
        }

        var ex = Assert.Throws<CorpusException>(() => Utf8Text.ReadFile("/dev/zero", 1_000_000));
        Assert.That(ex!.Message, Is.EqualTo("/dev/zero holds more than 1,000,000 characters; at most that many fit."));
    }

    private AppResult Sample(string start) => AppHarness.Run("sample", "--checkpoint", checkpoint, "--start", start, "--length", "5", "--device", "cpu");
}
