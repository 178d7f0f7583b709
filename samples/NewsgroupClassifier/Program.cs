using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>
/// Classifies 20 Newsgroups posts into their 20 groups from their first characters: Embedding, LSTM, the last
/// hidden state, Linear, trained with the library's Trainer on the train split; accuracy on the test split.
/// Bad input (an unknown device, missing data, a bad number) gives one "error: ..." line and exit code 2.
/// </summary>
public static class Program
{
    private const int UsageError = 2;

    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the app on <paramref name="args"/> and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var data = new Option<string?>("--data") { Description = $"The corpus ({NewsgroupsArchive.FileName} or its folder, or the folder holding it); default ${NewsgroupsArchive.DataEnvironmentVariable}." };
        var device = new Option<string>("--device") { Description = "cpu, ilgpu-cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
        var epochs = Positive(new Option<int>("--epochs") { Description = "Passes over the training posts.", DefaultValueFactory = _ => 3 });
        var maxChars = Positive(new Option<int>("--max-chars") { Description = "Characters read from the start of each post (shorter posts are padded in front).", DefaultValueFactory = _ => 256 });
        var embedding = Positive(new Option<int>("--embedding") { Description = "Embedding size per character.", DefaultValueFactory = _ => 32 });
        var hidden = Positive(new Option<int>("--hidden") { Description = "LSTM hidden size.", DefaultValueFactory = _ => 128 });
        var batch = Positive(new Option<int>("--batch") { Description = "Posts per batch.", DefaultValueFactory = _ => 64 });
        var lr = Positive(new Option<float>("--lr") { Description = "Adam's learning rate.", DefaultValueFactory = _ => 3e-3f });
        var limit = new Option<int?>("--limit") { Description = "Use only N posts of each split, drawn at random with --seed (a small slice)." };
        limit.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is <= 0 and var n)
            {
                r.AddError($"--limit must be positive; got {n}.");
            }
        });
        var seed = new Option<int>("--seed") { Description = "Seed of the initialisation, the slice and the batch order.", DefaultValueFactory = _ => 0 };
        var export = new Option<string?>("--export") { Description = "Write the cleaned posts (split, group, text per line) to this file for the scikit-learn baseline, then stop." };

        var root = new RootCommand("Classifies 20 Newsgroups posts from their characters with an LSTM built from Tensorlet's modules.")
        {
            data, device, epochs, maxChars, embedding, hidden, batch, lr, limit, seed, export,
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {parsed.Errors[0].Message} (see --help)");
            return UsageError;
        }

        if (parsed.Action is not null)
        {
            // --help or --version: the root command has no action of its own.
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
        }

        try
        {
            var options = new ClassifierOptions(
                parsed.GetValue(device)!, parsed.GetValue(epochs), parsed.GetValue(maxChars), parsed.GetValue(embedding),
                parsed.GetValue(hidden), parsed.GetValue(batch), parsed.GetValue(lr), parsed.GetValue(seed));
            using var accelerator = Device.Create(options.Device); // an unknown or absent device fails before the corpus is read
            var path = NewsgroupsArchive.FindLocal(new NewsgroupsArchiveOptions { Path = parsed.GetValue(data), AllowDownload = false })
                ?? throw new CorpusException(
                    NewsgroupsArchive.FileName,
                    $"The 20 Newsgroups corpus was not found: pass --data or set {NewsgroupsArchive.DataEnvironmentVariable} to the folder holding {NewsgroupsArchive.FileName}.");
            var clock = Stopwatch.StartNew();
            var corpus = CleanedCorpus.Load(path, parsed.GetValue(limit), options.Seed);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{corpus.Train.Count} train and {corpus.Test.Count} test posts, {corpus.Groups.Count} groups, read and cleaned in {clock.Elapsed.TotalSeconds:F1} s."));
            if (parsed.GetValue(export) is { } exportPath)
            {
                corpus.Export(exportPath);
                stdout.WriteLine($"Wrote the cleaned posts to {exportPath}.");
                return 0;
            }

            ClassifierRun.Train(corpus, options, accelerator, stdout);
            return 0;
        }
        catch (Exception e) when (e is DeviceNotAvailableException or CorpusException or IOException or UnauthorizedAccessException
            or ArgumentException or NonFiniteLossException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return UsageError;
        }
    }

    // The option, refusing values that are not finite and above zero.
    private static Option<T> Positive<T>(Option<T> option)
        where T : struct, System.Numerics.INumber<T>
    {
        option.Validators.Add(result =>
        {
            // NaN and ±Infinity parse as floats (1e99 too, as infinity) and NaN <= 0 is false: refused here, before the
            // corpus is read, rather than by Adam after it.
            var value = result.GetValueOrDefault<T>();
            if (!T.IsFinite(value))
            {
                result.AddError($"{option.Name} must be a finite number; got {value.ToString(null, CultureInfo.InvariantCulture)}.");
            }
            else if (value <= T.Zero)
            {
                result.AddError($"{option.Name} must be positive; got {value.ToString(null, CultureInfo.InvariantCulture)}.");
            }
        });
        return option;
    }
}
