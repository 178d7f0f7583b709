using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Bench.TrainStep;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Bench;

/// <summary>
/// Loading a generated 100 MB UTF-8 text (train --text): both streaming passes, the vocabulary and the compact ids,
/// then the window batch source over it. The text is seeded words of English letters with about one accented letter,
/// CJK ideograph or emoji per line, so the decoder's multi-byte path runs too (63 characters; ids take one byte).
/// The Allocated column is the memory a load takes (the ids are most of it); after the runs the process's resident
/// high-water mark (VmHWM) is printed beside the file size.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class TextCorpusBenchmarks
{
    private const long TextBytes = 100_000_000;
    private string path = null!;

    /// <summary>Writes the text to a temporary file, streaming.</summary>
    [GlobalSetup]
    public void Setup()
    {
        path = Path.Combine(Path.GetTempPath(), $"tensorlet-text-{TextBytes}.txt");
        if (File.Exists(path) && new FileInfo(path).Length == TextBytes)
        {
            return;
        }

        string[] rare = ["é", "ü", "ß", "世", "界", "🙂", "—"];
        var random = new Random(1);
        var line = new StringBuilder();
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        long written = 0;
        while (written < TextBytes)
        {
            line.Clear();
            int words = random.Next(6, 14);
            for (int w = 0; w < words; w++)
            {
                int letters = random.Next(1, 9);
                for (int l = 0; l < letters; l++)
                {
                    line.Append((char)(random.Next(2) == 0 ? 'a' + random.Next(26) : 'A' + random.Next(26)));
                }

                line.Append(w == words / 2 ? rare[random.Next(rare.Length)] : w % 5 == 4 ? ", " : " ");
            }

            line.Append(".\n");
            var bytes = Encoding.UTF8.GetBytes(line.ToString());
            int take = (int)Math.Min(bytes.Length, TextBytes - written);
            if (take < bytes.Length)
            {
                // Pad with ASCII rather than cut a multi-byte character.
                writer.Write(new string('x', take));
                written += take;
                break;
            }

            writer.Write(line.ToString());
            written += bytes.Length;
        }
    }

    /// <summary>Prints the process's resident high-water mark.</summary>
    [GlobalCleanup]
    public void Report()
        => Console.WriteLine($"// text {new FileInfo(path).Length / 1e6:F1} MB; process resident peak (VmHWM) {ProcessMemory.PeakMegabytes():F1} MiB");

    /// <summary>Counts, builds the vocabulary, maps to ids.</summary>
    [Benchmark(Baseline = true)]
    public int Load() => TextCorpus.Load(path).Length;

    /// <summary>The load, the validation split and the window source: everything before the first batch.</summary>
    [Benchmark]
    public int LoadSplitAndWindow()
    {
        var corpus = TextCorpus.Load(path);
        var (train, _) = corpus.Split(0.05);
        return new TextWindowBatchSource(train, 100).Count;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn("MB/s", _ => TextBytes / 1e6));
    }
}
