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

    [OneTimeSetUp]
    public void CreateFolder()
    {
        folder = AppHarness.TempFolder();
    }

    [OneTimeTearDown]
    public void DeleteFolder()
    {
        if (folder is not null && Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
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
}
