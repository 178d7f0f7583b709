using System.Text;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.Fuzz;

/// <summary>
/// The four fuzz targets and the property each must keep, whatever its input: the readers either succeed or
/// throw their documented exception with a message; the app returns 0, 1 or 2 with at most one error line.
/// An input that breaks a property fails the calling test with the input's description.
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The safetensors reader: reads the bytes as a file; success, or a <see cref="CheckpointException"/>.</summary>
    public static void SafeTensors(byte[] bytes, string scratch)
    {
        var path = Write(scratch, "input.safetensors", bytes);
        Expect<CheckpointException>(() =>
        {
            var file = SafeTensorsFile.Read(path);
            foreach (var tensor in file.Tensors.Values)
            {
                _ = tensor.ShapeText;
            }
        });
    }

    /// <summary>The checkpoint reader on a file (its metadata mutated): success, or a <see cref="CheckpointException"/>.</summary>
    public static void Checkpoint(string path) => Expect<CheckpointException>(() => ModelCheckpoint.Read(path));

    /// <summary>The 20 Newsgroups reader on an archive's bytes: success, or a <see cref="CorpusException"/>.</summary>
    public static void Archive(byte[] bytes, string scratch)
    {
        var path = Write(scratch, "input.tar.gz", bytes);
        Expect<CorpusException>(() =>
        {
            foreach (var document in NewsgroupsReader.ReadDocuments(path, verifyCounts: false))
            {
                _ = document.Text.Length;
            }
        });
    }

    /// <summary>
    /// The app on a command line: exit 0, 1 or 2, at most one line on standard error (an "error: " line when the
    /// exit code is not 0), no stack trace, no exception.
    /// </summary>
    public static void App(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code;
        try
        {
            code = CharPredictApp.Run(args, stdout, stderr);
        }
        catch (Exception e)
        {
            throw new AssertionException($"{Describe(args)} threw {e.GetType().Name}: {e.Message}");
        }

        var errors = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("warning: ", StringComparison.Ordinal)).ToArray();
        bool ok = code is 0 or 1 or 2 && errors.Length <= 1 && (code == 0 || (errors.Length == 1 && errors[0].StartsWith("error: ", StringComparison.Ordinal)))
            && !stderr.ToString().Contains("   at ", StringComparison.Ordinal) && !stdout.ToString().Contains("   at ", StringComparison.Ordinal);
        if (!ok)
        {
            throw new AssertionException($"{Describe(args)} gave exit {code} and stderr:\n{stderr}");
        }
    }

    /// <summary>A command line as one readable line.</summary>
    public static string Describe(string[] args) => "[" + string.Join(", ", args.Select(a => "\"" + a.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"")) + "]";

    private static void Expect<TDocumented>(Action read)
        where TDocumented : Exception
    {
        try
        {
            read();
        }
        catch (TDocumented e) when (!string.IsNullOrWhiteSpace(e.Message))
        {
        }
        catch (Exception e)
        {
            throw new AssertionException($"threw {e.GetType().Name} (not {typeof(TDocumented).Name}): {e.Message}\n{e.StackTrace}");
        }
    }

    private static string Write(string scratch, string name, byte[] bytes)
    {
        var path = Path.Combine(scratch, $"{Environment.CurrentManagedThreadId}-{name}");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}

/// <summary>Byte- and text-level mutations of seed inputs, as a fuzzer's mutator makes them.</summary>
internal static class Mutations
{
    /// <summary>Applies mutation <paramref name="kind"/> at <paramref name="position"/> (taken modulo the length) with <paramref name="noise"/>.</summary>
    public static byte[] Apply(byte[] seed, int kind, int position, byte[] noise)
    {
        if (seed.Length == 0)
        {
            return noise;
        }

        int at = (int)((uint)position % (uint)seed.Length);
        var bytes = seed.ToList();
        switch (kind % 6)
        {
            case 0: // flip bits of one byte
                bytes[at] ^= noise.Length > 0 ? (byte)(noise[0] | 1) : (byte)1;
                break;
            case 1: // truncate
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 2: // insert
                bytes.InsertRange(at, noise);
                break;
            case 3: // overwrite
                for (int i = 0; i < noise.Length && at + i < bytes.Count; i++)
                {
                    bytes[at + i] = noise[i];
                }

                break;
            case 4: // delete a range
                bytes.RemoveRange(at, Math.Min(noise.Length + 1, bytes.Count - at));
                break;
            default: // set an interesting value (0, 0xFF, 0x7F, 0x80) over up to 8 bytes: lengths and offsets
                byte value = (byte)(noise.Length == 0 ? 0xFF : noise[0] % 4 switch { 0 => 0, 1 => 0xFF, 2 => 0x7F, _ => 0x80 });
                for (int i = 0; i < 8 && at + i < bytes.Count; i++)
                {
                    bytes[at + i] = value;
                }

                break;
        }

        return [.. bytes];
    }

    /// <summary>A text mutation: the same as <see cref="Apply"/> on the UTF-8 bytes, read back leniently.</summary>
    public static string Apply(string seed, int kind, int position, byte[] noise)
        => Encoding.UTF8.GetString(Apply(Encoding.UTF8.GetBytes(seed), kind, position, noise));
}
