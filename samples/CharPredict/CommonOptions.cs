using System.CommandLine;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Samples.CharPredict;

/// <summary>Options shared by several commands.</summary>
internal static class CommonOptions
{
    /// <summary>--data: the archive or an extracted folder.</summary>
    public static Option<string?> Data() => new("--data")
    {
        HelpName = "PATH",
        Description = "20news-bydate.tar.gz, a folder holding it, or the extracted folder (default: $TENSORLET_DATA, the cache, or a download)",
    };

    /// <summary>
    /// --max-sequences: use only the corpus's first sequences, for a quick run or look (a user option, in --help and
    /// docs/app.md: train records it in config.json and names it in its errors).
    /// </summary>
    public static Option<int?> MaxSequences()
        => OptionParsing.OptionalNumber("--max-sequences", "Use only the first N sequences of the corpus (a quick run)", SettingRanges.MaxSequences);

    /// <summary>--checkpoint: the model file a command reads.</summary>
    public static Option<string> Checkpoint() => new("--checkpoint")
    {
        HelpName = "FILE",
        Description = "A model file of a run: lstm.safetensors, gru.safetensors, rnn.safetensors or ngram.safetensors, or its .best one",
        Required = true,
    };

    /// <summary>--lowercase for the commands that read text into a trained model.</summary>
    public static Option<bool> Lowercase() => new("--lowercase")
    {
        Description = "Lowercase the text first (the default when the model's run trained on a lowercased --text)",
    };

    /// <summary>
    /// Whether text for the model in <paramref name="checkpoint"/> is lowercased: when asked, or when the run folder
    /// beside it trained on a lowercased text, whose model knows no capitals.
    /// </summary>
    public static bool LowercaseFor(string checkpoint, bool asked)
    {
        if (asked)
        {
            return true;
        }

        string config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint))!, "config.json");
        try
        {
            return File.Exists(config) && RunConfig.Read(config).Settings is { Text: not null, Lowercase: true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A config.json that is not a run's, or cannot be read, says nothing about the model.
            return false;
        }
    }

    /// <summary>The text lowercased as <c>train --text --lowercase</c> lowercases it: each character by <see cref="System.Text.Rune.ToLowerInvariant"/>.</summary>
    public static string ToLower(string text) => string.Concat(text.EnumerateRunes().Select(r => System.Text.Rune.ToLowerInvariant(r).ToString()));

    /// <summary>--device.</summary>
    public static Option<string> Device() => new("--device") { Description = "auto, cpu, cuda or ilgpu-cpu", DefaultValueFactory = _ => "auto" };

    /// <summary>--seed.</summary>
    public static Option<int> Seed() => OptionParsing.Number("--seed", "Seed of the random draws", 1, new NumberRange<int>(int.MinValue, int.MaxValue));

    /// <summary>
    /// Refuses an output path that names the file a command reads (<c>export --onnx</c> over its checkpoint, <c>data
    /// --export</c> over the archive): the write would replace what the user asked to read, and lose it.
    /// </summary>
    /// <exception cref="ArgumentException">The two paths name the same file.</exception>
    public static void EnsureNotTheInput(string output, string input, string outputOption)
    {
        // Windows and macOS file systems ignore case by default; Linux's do not.
        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        if (string.Equals(AtomicFile.ResolvePath(output), AtomicFile.ResolvePath(input), comparison))
        {
            throw new ArgumentException($"{outputOption} {output} is the file this command reads; write to another file.");
        }
    }

    /// <summary>Restricts an option to the given values, returning it.</summary>
    public static Option<string> AcceptOnlyFromAmongFluent(this Option<string> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
