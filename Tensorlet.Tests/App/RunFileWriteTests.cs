using System.Buffers.Binary;
using System.Collections.Concurrent;
using NUnit.Framework;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary>The run files written outside the checkpoints, loss.png and samples.txt, go through AtomicFile as the others do.</summary>
public sealed class RunFileWriteTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private string folder = null!;

    [SetUp]
    public void CreateFolder() => folder = AppHarness.TempFolder();

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    [CancelAfter(60_000)]
    public void TheChartReplacesLossPngWholeAndNoVisibleFileEverAppears()
    {
        var path = Path.Combine(folder, "loss.png");
        File.WriteAllText(path, "the previous chart");
        MetricsRow[] rows =
        [
            new("ngram", 1, 2.9, 2.8, 2.8, 4.0, 1000, 1),
            new("ngram", 2, 2.5, 2.4, 2.4, 3.5, 1000, 2),
            new("lstm", 1, 3.1, 3.0, 2.9, 4.3, 500, 3),
        ];

        // Every name that appears in the folder while the chart is written, in order (inotify on Linux).
        var seen = new ConcurrentQueue<string>();
        using var committed = new ManualResetEventSlim();
        using var watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = false };
        watcher.Created += (_, e) => seen.Enqueue(e.Name!);
        watcher.Renamed += (_, e) =>
        {
            seen.Enqueue(e.OldName!);
            if (e.Name == "loss.png")
            {
                committed.Set();
            }
        };
        watcher.EnableRaisingEvents = true;

        LossChart.Write(path, rows, ChartSubject.Newsgroups);

        Assert.That(committed.Wait(TimeSpan.FromSeconds(30)), Is.True, "loss.png is renamed into place");
        Assert.That(seen, Is.Not.Empty.And.All.Matches<string>(name => name.StartsWith(".loss.png.", StringComparison.Ordinal) && name.EndsWith(".tmp", StringComparison.Ordinal)),
            "the only other name is AtomicFile's hidden temporary, .loss.png.GUID.tmp");
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EqualTo(new[] { "loss.png" }));

        // A whole PNG of the documented size replaced the old file.
        var png = File.ReadAllBytes(path);
        Assert.That(png.AsSpan(0, 8).ToArray(), Is.EqualTo(PngSignature));
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), Is.EqualTo(LossChart.Width), "IHDR width");
        Assert.That(BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)), Is.EqualTo(LossChart.Height), "IHDR height");
        Assert.That(png.AsSpan(png.Length - 8, 4).ToArray(), Is.EqualTo("IEND"u8.ToArray()), "the file ends with the IEND chunk");
    }

    [Test]
    public void TwoTrainsThatChoseTheSameNewRunFolderEachGetOne()
    {
        // Both chose the same name in the same second; the first claims it, the second takes the next free name.
        var chosen = Path.Combine(folder, "20261206-171429-lstm");
        var first = new RunFolder(chosen).Create();
        var second = new RunFolder(chosen).Create();
        Assert.That(first.Path, Is.EqualTo(chosen));
        Assert.That(second.Path, Is.EqualTo(chosen + "-2"));
        Assert.That(new RunFolder(chosen).Create().Path, Is.EqualTo(chosen + "-3"));
        Assert.That(File.Exists(Path.Combine(second.Path, ".train.lock")), Is.True, "claimed");
    }

    [Test]
    public void ASampleLineIsAddedToSamplesTxtKeepingTheEarlierLines()
    {
        var run = new RunFolder(folder);
        run.AppendSample("[lstm epoch 1, temperature 0.5] the first");
        run.AppendSample("[lstm epoch 2, temperature 0.5] the second");

        Assert.That(File.ReadAllText(run.Samples), Is.EqualTo("[lstm epoch 1, temperature 0.5] the first\n[lstm epoch 2, temperature 0.5] the second\n"));
        Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName), Is.EqualTo(new[] { "samples.txt" }));
    }
}
