using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Tensorlet.CommandLine;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>
/// Classifies 20 Newsgroups posts into their 20 groups from their first characters with a char-CNN or an LSTM made of
/// library modules (<see cref="ClassifierModels"/>), trained with the library's Trainer on the train split; accuracy on
/// the test split.
/// The exit codes are CharPredict's: a command line that does not parse (an unknown flag, a bad number, a size option
/// of the other model, weights larger than a tensor holds) gives one "error: ... (see --help)" line and exit code 2; a
/// run that fails (an unknown or absent device, a missing or corrupt corpus, a batch too large, a loss that is no longer
/// finite, out of memory), one "error: ..." line and exit code 1. Never a stack trace.
/// </summary>
public static class Program
{
    // A run that failed: bad data, an unusable device, a non-finite loss, not enough memory.
    private const int Failure = 1;

    // A command line that does not parse: an unknown flag, a bad value.
    private const int UsageError = 2;

    private const int DefaultEmbedding = 32;
    private const int DefaultHidden = 128;
    private const int DefaultChannels = 256;
    private const string DefaultModel = ClassifierModels.Cnn;

    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs the app on <paramref name="args"/> and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var data = new Option<string?>("--data") { Description = $"The corpus ({NewsgroupsArchive.FileName} or its folder, or the folder holding it); default ${NewsgroupsArchive.DataEnvironmentVariable}." };
        var model = new Option<string>("--model") { Description = "cnn (a char-CNN, sized by --channels) or lstm (sized by --hidden).", DefaultValueFactory = _ => DefaultModel };
        model.AcceptOnlyFromAmong(ClassifierModels.Names);
        var device = new Option<string>("--device") { Description = "cpu, ilgpu-cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };
        // Every number goes through OptionParsing: text, NaN, Infinity and values out of range are one parse error.
        var epochs = OptionParsing.Number("--epochs", "Passes over the training posts.", 15, NumberRange<int>.Positive());
        var maxChars = OptionParsing.Number(
            "--max-chars", $"Characters read from the start of each post (shorter posts are padded in front); at most {Limits.MaxChars}, more than the longest post has.",
            256, NumberRange<int>.Positive(Limits.MaxChars));
        var embedding = OptionParsing.Number("--embedding", "Embedding size per character.", DefaultEmbedding, NumberRange<int>.Positive());
        var hidden = OptionParsing.Number("--hidden", "LSTM hidden size (--model lstm).", DefaultHidden, NumberRange<int>.Positive());
        var channels = OptionParsing.Number("--channels", "Channels of each convolution (--model cnn).", DefaultChannels, NumberRange<int>.Positive());
        var batch = OptionParsing.Number("--batch", "Posts per batch.", 64, NumberRange<int>.Positive());
        var lr = OptionParsing.Number("--lr", "Adam's learning rate.", 3e-3f, NumberRange<float>.Positive());
        var limit = OptionParsing.OptionalNumber("--limit", "Use only N posts of each split, drawn at random with --seed (a small slice).", NumberRange<int>.Positive());
        var seed = OptionParsing.Number("--seed", "Seed of the initialisation, the slice and the batch order.", 0, new NumberRange<int>(int.MinValue, int.MaxValue));
        var export = new Option<string?>("--export") { Description = "Write the cleaned posts (split, group, text per line) to this file for the scikit-learn baseline, then stop." };

        var root = new RootCommand("Classifies 20 Newsgroups posts from their characters with a char-CNN or an LSTM built from Tensorlet's modules.")
        {
            data, model, device, epochs, maxChars, embedding, hidden, channels, batch, lr, limit, seed, export,
        };

        // What no corpus can make fit is a command-line error: a size option of the other model, a window shorter than the
        // CNN's pooling, weights larger than a tensor holds. An option not given has no value yet while the parser
        // validates (its default comes later), and a bad one is already its option's parse error (GetValue would throw
        // here, inside the parser), as is an unknown --model.
        root.Validators.Add(result =>
        {
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };
            string modelName = Given(model) ? result.GetResult(model)!.Tokens.FirstOrDefault()?.Value ?? DefaultModel : DefaultModel;
            if (!ClassifierModels.Names.Contains(modelName))
            {
                return;
            }

            var (width, otherWidth, widthFallback) = modelName == ClassifierModels.Lstm ? (hidden, channels, DefaultHidden) : (channels, hidden, DefaultChannels);
            if (Given(otherWidth) && TryValue(otherWidth, 0, out _))
            {
                string otherModel = modelName == ClassifierModels.Lstm ? ClassifierModels.Cnn : ClassifierModels.Lstm;
                result.AddError($"{otherWidth.Name} is a parameter of --model {otherModel}; this run's model is {modelName}.");
                return;
            }

            if (modelName == ClassifierModels.Cnn && TryValue(maxChars, ClassifierModels.CnnMinChars, out int chars) && chars < ClassifierModels.CnnMinChars)
            {
                result.AddError($"--model cnn reads at least --max-chars {ClassifierModels.CnnMinChars}, the window of its MaxPool1d({ClassifierModels.CnnMinChars}); got {chars}.");
                return;
            }

            if (TryValue(width, widthFallback, out int w) && TryValue(embedding, DefaultEmbedding, out int e) && ClassifierModels.WeightsError(modelName, w, e) is { } error)
            {
                result.AddError(error);
            }

            bool TryValue(Option<int> option, int fallback, out int value)
            {
                value = fallback;
                try
                {
                    value = Given(option) ? result.GetValue(option) : fallback;
                    return true;
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            }
        });

        // No response files: "@PATH" is a value (--data @corpus is a folder named so), not a file of arguments; as in CharPredict.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"error: {OptionParsing.ErrorLine(parsed)} (see --help)");
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
                parsed.GetValue(device)!, parsed.GetValue(model)!, parsed.GetValue(epochs), parsed.GetValue(maxChars), parsed.GetValue(embedding),
                parsed.GetValue(hidden), parsed.GetValue(channels), parsed.GetValue(batch), parsed.GetValue(lr), parsed.GetValue(seed));
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
            // A run that got past the parser and failed: CharPredict's exit code 1, as a missing corpus or a NaN loss.
            stderr.WriteLine($"error: {OptionParsing.ErrorLine(e)}");
            return Failure;
        }
        catch (OutOfMemoryException)
        {
            // What RunMemory's estimate let through (a GPU's memory, other processes'). The posts' windows, the batch
            // buffers and the model's activations grow with these three; the exception's own message names none of them.
            // Nothing is written before training, so nothing is lost.
            stderr.WriteLine("error: out of memory; use a smaller --batch, --max-chars, or the model's --hidden or --channels");
            return Failure;
        }
    }
}
