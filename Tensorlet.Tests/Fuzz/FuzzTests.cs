using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using CsCheck;
using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing with CsCheck: each target gets thousands of generated inputs and of mutations of its seed
/// corpus (Fixtures/fuzz/TARGET), and must keep its property (see <see cref="FuzzTargets"/>). CsCheck shrinks a
/// failing input and prints the seed that reproduces it; a fixed bug's input joins the seed corpus, which
/// <see cref="EverySeedKeepsItsProperty"/> replays on every run.
/// </summary>
[NonParallelizable]
public sealed class FuzzTests
{
    // Per generator; each target runs two (about 5-15 s each on 2 shared cores, the checkpoint one fsyncs every write).
    private const int Inputs = 1000;

    private static readonly string[] Commands = ["train", "sample", "compare", "eval", "data", "frobnicate", "", "--help", "-h", "--version"];

    // Every option of every command except --data and --runs-dir, which the generator sets itself (so that no
    // generated command line reads the real corpus or writes outside the scratch folder), and a few that do not exist.
    private static readonly string[] Options =
    [
        "--model", "--device", "--threads", "--preset", "--n", "--ngram-hidden", "--ngram-activation", "--ngram-windows", "--lstm-hidden",
        "--lstm-layers", "--lstm-dropout", "--epochs", "--lr", "--batch", "--seed", "--validation-fraction", "--max-batches", "--clip-norm",
        "--sample-length", "--max-sequences", "--resume", "--stop-after-batches", "--checkpoint", "--start", "--length", "--temperature",
        "--temperatures", "--text", "--per-char", "--export", "--run", "--bogus", "-x", "--", "--help",
    ];

    private static readonly string[] Values =
    [
        "abc", "1.5", "1e3", "NaN", "nan", "Infinity", "-Infinity", "∞", "-1", "0", "1", "2", "3", "100000000", "2147483648", "-2147483649", "", " ",
        "cpu", "cuda", "ilgpu-cpu", "auto", "lstm", "ngram", "both", "relu", "tanh", "all", "notebook", "default", "0.5", "1e-9", "0x10", "1,5",
        "--epochs", "the ", "zzz\u00e9", "\0", "0.5,1", "0,,1",
    ];

    private string scratch = null!;
    private string missing = null!;
    private string garbage = null!;

    [OneTimeSetUp]
    public void CreateScratch()
    {
        scratch = Directory.CreateTempSubdirectory("tensorlet-fuzz-").FullName;
        missing = Path.Combine(scratch, "does-not-exist");
        garbage = Path.Combine(scratch, "garbage.safetensors");
        File.WriteAllBytes(garbage, [1, 2, 3]);
    }

    [OneTimeTearDown]
    public void DeleteScratch() => Directory.Delete(scratch, recursive: true);

    [Test]
    [CancelAfter(60_000)]
    public void TheSafetensorsReaderSucceedsOrThrowsACheckpointException()
    {
        var seeds = Seeds("safetensors");
        int tried = 0;
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[0, 5], Gen.Int, Gen.Byte.Array[0, 12])
            .Sample((s, kind, at, noise) =>
            {
                tried++;
                FuzzTargets.SafeTensors(Mutations.Apply(seeds[s], kind, at, noise), scratch);
            }, iter: Inputs, threads: 1);
        GeneratedSafeTensors().Sample(bytes =>
        {
            tried++;
            FuzzTargets.SafeTensors(bytes, scratch);
        }, iter: Inputs, threads: 1);
        TestContext.Out.WriteLine($"safetensors reader: {tried} inputs");
    }

    [Test]
    [CancelAfter(60_000)]
    public void TheCheckpointReaderSucceedsOrThrowsACheckpointExceptionOnAnyMetadata()
    {
        var seeds = Directory.GetFiles(SeedFolder("checkpoint"), "*.safetensors").Select(SafeTensorsFile.Read).ToArray();
        var path = Path.Combine(scratch, "checkpoint.safetensors");
        int tried = 0;
        var keyNames = seeds.SelectMany(f => f.Metadata.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[0, keyNames.Length], Gen.Int[0, 6], Gen.Int, Gen.Byte.Array[0, 12], Gen.OneOf(Values))
            .Sample((s, key, kind, at, noise, value) =>
            {
                tried++;
                var metadata = seeds[s].Metadata.ToDictionary();
                if (key == keyNames.Length)
                {
                    // A whole key replaced by a value, or dropped.
                    metadata.Remove(keyNames[(uint)at % keyNames.Length]);
                }
                else if (kind == 6)
                {
                    metadata[keyNames[key]] = value;
                }
                else
                {
                    metadata[keyNames[key]] = Mutations.Apply(metadata.GetValueOrDefault(keyNames[key]) ?? "", kind, at, noise);
                }

                SafeTensorsFile.Write(path, seeds[s].Tensors.Values, metadata);
                FuzzTargets.Checkpoint(path);
            }, iter: Inputs, threads: 1);

        // The spec's JSON, field by field: every number of the spec replaced by an edge value.
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.OneOf("vocab_size", "hidden_size", "num_layers", "dropout", "n", "ngram_vocab_size", "activation", "kind", "bogus"),
                Gen.OneOf<object?>(null, -1, 0, 1, 2, 100_000, int.MaxValue, 1e300, -0.5, 0.5, "relu", "lstm", "ngram", "x", true, new int[] { 1 }))
            .Sample((s, field, value) =>
            {
                tried++;
                var metadata = seeds[s].Metadata.ToDictionary();
                var spec = JsonSerializer.Deserialize<Dictionary<string, object?>>(metadata["tensorlet.spec"])!;
                spec[field] = value;
                metadata["tensorlet.spec"] = JsonSerializer.Serialize(spec);
                SafeTensorsFile.Write(path, seeds[s].Tensors.Values, metadata);
                FuzzTargets.Checkpoint(path);
            }, iter: Inputs / 2, threads: 1);
        TestContext.Out.WriteLine($"checkpoint metadata: {tried} inputs");
    }

    [Test]
    [CancelAfter(60_000)]
    public void TheNewsgroupsReaderSucceedsOrThrowsACorpusException()
    {
        var seeds = Seeds("newsgroups");
        int tried = 0;
        Gen.Select(Gen.Int[0, seeds.Length - 1], Gen.Int[0, 5], Gen.Int, Gen.Byte.Array[0, 12])
            .Sample((s, kind, at, noise) =>
            {
                tried++;
                FuzzTargets.Archive(Mutations.Apply(seeds[s], kind, at, noise), scratch);
            }, iter: Inputs, threads: 1);

        // Well-formed archives of odd entries: names, folders, empty and binary posts, so the reader's own parsing
        // (not only gzip's and tar's) meets bad input; and the same archives' uncompressed tar mutated.
        var entry = Gen.Select(
            Gen.OneOf("20news-bydate-train", "20news-bydate-test", "./20news-bydate-train", "other", "", "20news-bydate-train/x/.."),
            Gen.OneOf("sci.space", "a", "", "..", "g/h"),
            Gen.OneOf(Gen.Int[0, 99999].Select(i => i.ToString(CultureInfo.InvariantCulture)), Gen.OneOf("", "x", "-1", "00", "1/2")),
            Gen.Byte.Array[0, 200]);
        Gen.Select(entry.Array[0, 4], Gen.Int[0, 5], Gen.Int, Gen.Byte.Array[0, 12]).Sample((entries, kind, at, noise) =>
        {
            tried++;
            var tar = Tar(entries.Select(e => ($"{e.Item1}/{e.Item2}/{e.Item3}".TrimStart('/'), e.Item4)));
            FuzzTargets.Archive(Gzip(tar), scratch);
            FuzzTargets.Archive(Gzip(Mutations.Apply(tar, kind, at, noise)), scratch);
        }, iter: Inputs / 2, threads: 1);
        TestContext.Out.WriteLine($"20 Newsgroups reader: {tried} archives (generated ones count once, each also read mutated)");
    }

    [Test]
    [CancelAfter(120_000)]
    public void TheAppAnswersAnyCommandLineWithAnExitCodeAndAtMostOneErrorLine()
    {
        var value = Gen.OneOf(Gen.OneOf(Values), Gen.OneOf(missing, garbage, scratch), Gen.Int.Select(i => i.ToString(CultureInfo.InvariantCulture)),
            Gen.Double.Select(d => d.ToString(CultureInfo.InvariantCulture)), Gen.String[Gen.Char.AlphaNumeric, 0, 6]);
        var option = Gen.Select(Gen.OneOf(Options), value, Gen.Int[0, 4], (o, v, form) => form switch
        {
            0 => new[] { o },
            1 => [$"{o}={v}"],
            _ => [o, v],
        });
        int tried = 0;
        Gen.Select(Gen.OneOf(Commands), option.Array[0, 5], Gen.Int[0, 5], (command, options, position) => CommandLine(command, options.SelectMany(o => o).ToList(), position))
            .Sample(args =>
            {
                tried++;
                FuzzTargets.App(args);
            }, iter: Inputs * 5, threads: 1, print: FuzzTargets.Describe); // Most command lines fail in parsing: cheap.
        TestContext.Out.WriteLine($"app command line: {tried} inputs");
    }

    [Test]
    public void EverySeedKeepsItsProperty()
    {
        foreach (var file in Directory.GetFiles(SeedFolder("safetensors")))
        {
            FuzzTargets.SafeTensors(File.ReadAllBytes(file), scratch);
        }

        foreach (var file in Directory.GetFiles(SeedFolder("checkpoint")))
        {
            FuzzTargets.Checkpoint(file);
        }

        foreach (var file in Directory.GetFiles(SeedFolder("newsgroups")))
        {
            FuzzTargets.Archive(File.ReadAllBytes(file), scratch);
        }

    }

    [Test]
    public void EverySeedCommandLineKeepsItsProperty()
    {
        // One command line per line, as a JSON array of strings; {missing}, {garbage} and {scratch} name the scratch paths.
        foreach (var line in File.ReadAllLines(Path.Combine(SeedFolder("args"), "command-lines.txt")).Where(l => l.StartsWith('[')))
        {
            var args = JsonSerializer.Deserialize<string[]>(line)!.Select(a => a.Replace("{missing}", missing).Replace("{garbage}", garbage).Replace("{scratch}", scratch)).ToList();
            FuzzTargets.App(CommandLine(args[0], args.Skip(1).ToList(), 0));
        }
    }

    // The command, the generator's --data and --runs-dir (for the commands that take them) at the given position
    // among the options, so nothing reads the real corpus (a command line without --data would) or writes outside
    // the scratch folder.
    private string[] CommandLine(string command, List<string> options, int position)
    {
        var safe = command switch
        {
            "train" => new[] { "--data", missing, "--runs-dir", Path.Combine(scratch, "runs") },
            "data" or "compare" or "eval" or "sample" => ["--data", missing],
            _ => [],
        };
        options.InsertRange(Math.Min(position, options.Count), safe);
        return [command, .. options];
    }

    private static string SeedFolder(string target) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "fuzz", target);

    private static byte[][] Seeds(string target) => [.. Directory.GetFiles(SeedFolder(target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

    // A safetensors file built from parts that are each valid or not: the header length, the JSON, dtypes, shapes, offsets.
    private static Gen<byte[]> GeneratedSafeTensors()
    {
        var tensor = Gen.Select(
            Gen.OneOf("w", "b", "__metadata__", "", "w"),
            Gen.OneOf("F32", "I32", "I64", "F16", "BF16", "BOOL", "U8", "F64", "x", "f32"),
            Gen.OneOf(Gen.Int[-1, 4], Gen.OneOf(int.MaxValue, 1 << 20)).Array[0, 3],
            Gen.Int[-4, 40],
            Gen.Int[-4, 40],
            Gen.Int[0, 3]);
        return Gen.Select(tensor.Array[0, 3], Gen.Int[0, 4], Gen.Byte.Array[0, 64], Gen.Int[-2, 2], (tensors, metadata, data, lengthError) =>
        {
            var json = new StringBuilder("{");
            foreach (var (name, dtype, shape, begin, end, form) in tensors)
            {
                var offsets = form == 3 ? "[1]" : $"[{begin},{end}]";
                var shapeText = form == 2 ? "\"3\"" : "[" + string.Join(",", shape) + "]";
                json.Append(CultureInfo.InvariantCulture, $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shapeText},\"data_offsets\":{offsets}}},");
            }

            json.Append(metadata switch
            {
                0 => "\"__metadata__\":{\"format\":\"pt\"}",
                1 => "\"__metadata__\":{\"a\":1}",
                2 => "\"__metadata__\":[]",
                3 => "\"x\":null",
                _ => "\"__metadata__\":{}",
            });
            json.Append('}');
            var header = Encoding.UTF8.GetBytes(json.ToString());
            var bytes = new byte[8 + header.Length + data.Length];
            BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)(header.Length + lengthError));
            header.CopyTo(bytes, 8);
            data.CopyTo(bytes, 8 + header.Length);
            return bytes;
        });
    }

    private static byte[] Tar(IEnumerable<(string Name, byte[] Content)> entries)
    {
        using var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                if (name.Length == 0)
                {
                    continue;
                }

                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
            }
        }

        return stream.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(bytes);
        }

        return stream.ToArray();
    }

    /// <summary>Writes the seed corpus that cannot be written by hand (run it explicitly, then commit the files).</summary>
    [Test]
    [Explicit("Writes the seed corpus into TENSORLET_FUZZ_SEEDS (the source folder Tensorlet.Tests/Fixtures/fuzz).")]
    public void WriteSeedCorpus()
    {
        var root = Environment.GetEnvironmentVariable("TENSORLET_FUZZ_SEEDS") ?? throw new InvalidOperationException("Set TENSORLET_FUZZ_SEEDS.");
        var device = TestDevices.Get("cpu");
        var characters = CharVocabulary.FromTexts(["abc "]);
        var lstmSpec = CharModelSpec.Lstm(characters.Count, 2, 2, 0.5f);
        using (var lstm = lstmSpec.Create(device, seed: 1))
        {
            ModelCheckpoint.Save(Path.Combine(root, "checkpoint", "lstm.safetensors"), lstm, lstmSpec, characters, null, new TrainingPosition(1, 2, 3));
        }

        var ngrams = NgramVocabulary.FromNgrams(2, ["ab", "c "]);
        var ngramSpec = CharModelSpec.Ngram(2, ngrams.Count, characters.Count, 2, Activation.Tanh);
        using (var ngram = ngramSpec.Create(device, seed: 1))
        {
            ModelCheckpoint.Save(Path.Combine(root, "checkpoint", "ngram.safetensors"), ngram, ngramSpec, characters, ngrams, new TrainingPosition(0, 0, 0));
        }

        Directory.CreateDirectory(Path.Combine(root, "newsgroups"));
        var posts = new (string, byte[])[]
        {
            ("20news-bydate-train/sci.space/1", Encoding.Latin1.GetBytes("From: a\nSubject: s\n\nThe orbit.\n")),
            ("20news-bydate-test/alt.atheism/2", Encoding.Latin1.GetBytes("From: b\n\nCaf\u00e9.\n")),
            ("notes.txt", [1, 2, 3]),
        };
        // Gzipped tars, named .seed rather than .tar.gz: they are fuzz seeds, not data.
        File.WriteAllBytes(Path.Combine(root, "newsgroups", "small-archive.seed"), Gzip(Tar(posts)));
        File.WriteAllBytes(Path.Combine(root, "newsgroups", "empty-gzip.seed"), Gzip([]));
    }
}
