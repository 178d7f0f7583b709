using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tensorlet.Kernels;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Samples.CharPredict;

/// <summary><c>train</c>: trains the n-gram MLP, the LSTM or both, into a run folder.</summary>
internal sealed class TrainCommand
{
    private readonly AppConsole console;
    private readonly CancellationToken cancellation;
    private readonly Option<string> model = new Option<string>("--model") { Description = "Which model to train", DefaultValueFactory = _ => "both" }.AcceptOnlyFromAmongFluent("ngram", "lstm", "both");
    private readonly Option<string> device = new("--device") { Description = "auto, cpu, cuda or ilgpu-cpu", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> threads = OptionParsing.Number("--threads", "CPU threads (0: all cores)", 0, new NumberRange<int>(0, Limits.MaxThreads));
    private readonly Option<string> preset = new Option<string>("--preset") { Description = "default (about 10 minutes on 2 CPU cores) or notebook (the notebook's full scale)", DefaultValueFactory = _ => "default" }.AcceptOnlyFromAmongFluent("default", "notebook");
    private readonly Option<int> n = OptionParsing.Number("--n", "Characters per n-gram", TrainSettings.Default.N, NumberRange<int>.Positive(Limits.MaxN));
    private readonly Option<int> ngramHidden = OptionParsing.Number("--ngram-hidden", "n-gram MLP hidden width", TrainSettings.Default.NgramHidden, NumberRange<int>.Positive(CharModelSpec.MaxHiddenSize));
    private readonly Option<string> ngramActivation = new Option<string>("--ngram-activation") { Description = "relu, tanh or sigmoid", DefaultValueFactory = _ => "relu" }.AcceptOnlyFromAmongFluent("relu", "tanh", "sigmoid");
    private readonly Option<int> ngramWindows = OptionParsing.NgramWindows("n-gram training windows per sequence: a number, or all (the notebook: 10)", TrainSettings.Default.NgramWindows);
    private readonly Option<int> lstmHidden = OptionParsing.Number("--lstm-hidden", "LSTM hidden size", TrainSettings.Default.LstmHidden, NumberRange<int>.Positive(CharModelSpec.MaxHiddenSize));
    private readonly Option<int> lstmLayers = OptionParsing.Number("--lstm-layers", "LSTM layers", TrainSettings.Default.LstmLayers, NumberRange<int>.Positive(CharModelSpec.MaxLayers));
    private readonly Option<float> lstmDropout = OptionParsing.Number("--lstm-dropout", "Dropout between LSTM layers", TrainSettings.Default.LstmDropout, new NumberRange<float>(0f, 1f, MaxOpen: true));
    private readonly Option<int> epochs = OptionParsing.Number("--epochs", "Epochs per model", TrainSettings.Default.Epochs, NumberRange<int>.Positive(Limits.MaxEpochs));
    private readonly Option<float> learningRate = OptionParsing.Number("--lr", "Adam learning rate", TrainSettings.Default.LearningRate, NumberRange<float>.Positive());
    private readonly Option<int> batch = OptionParsing.Number("--batch", "Sequences (LSTM) or windows (n-gram) per batch", TrainSettings.Default.Batch, NumberRange<int>.Positive(Limits.MaxBatch));
    private readonly Option<int> seed = OptionParsing.Number("--seed", "Seed of the initialisation, shuffles, dropout and samples", TrainSettings.Default.Seed, new NumberRange<int>(int.MinValue, int.MaxValue));
    private readonly Option<double> validationFraction = OptionParsing.Number("--validation-fraction", "Share of sequences held out", TrainSettings.Default.ValidationFraction, new NumberRange<double>(0, 1, MinOpen: true, MaxOpen: true));
    private readonly Option<int?> maxBatches = OptionParsing.OptionalNumber("--max-batches", "Stop each epoch after this many batches (short runs)", NumberRange<int>.Positive());
    private readonly Option<double?> clipNorm = OptionParsing.OptionalNumber("--clip-norm", "Clip the global gradient norm (default: no clipping, as the notebook)", NumberRange<double>.Positive());
    private readonly Option<int> sampleLength = OptionParsing.Number("--sample-length", "Characters generated after each epoch", TrainSettings.Default.SampleLength, new NumberRange<int>(0, Limits.MaxEpochSampleLength));
    private readonly Option<string?> data = CommonOptions.Data();
    private readonly Option<int?> maxSequences = CommonOptions.MaxSequences();
    private readonly Option<string> runsDir = new("--runs-dir") { HelpName = "DIR", Description = "The folder that holds run folders", DefaultValueFactory = _ => "runs" };
    private readonly Option<string?> resume = new("--resume") { HelpName = "RUN", Description = "Continue the run in this folder from its last checkpoint" };
    private readonly Option<int?> stopAfterBatches = OptionParsing.OptionalNumber("--stop-after-batches", "Stop as Ctrl+C would after this many batches (tests)", NumberRange<int>.Positive(), hidden: true);

    public TrainCommand(AppConsole console, CancellationToken cancellation)
    {
        this.console = console;
        this.cancellation = cancellation;
        Command = new Command("train", "Train the n-gram MLP, the LSTM or both, and write a run folder");
        foreach (var option in FixedOptions().Concat([device, threads, epochs, data, maxSequences, runsDir, resume, stopAfterBatches]))
        {
            Command.Options.Add(option);
        }

        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    // Options a resumed run takes from its config.json and may not change.
    private IEnumerable<Option> FixedOptions() =>
        [model, preset, n, ngramHidden, ngramActivation, ngramWindows, lstmHidden, lstmLayers, lstmDropout, learningRate, batch, seed, validationFraction, maxBatches, clipNorm, sampleLength];

    private int Execute(ParseResult result)
    {
        TrainSettings settings;
        RunFolder run;
        bool resuming = result.GetValue(resume) is not null;
        if (result.GetValue(resume) is { } resumePath)
        {
            var changed = FixedOptions().Where(result.WasGiven).Select(o => o.Name).ToArray();
            if (changed.Length > 0)
            {
                throw new ArgumentException(
                    $"{string.Join(", ", changed)} cannot change when resuming (the run's config.json fixes them); only --epochs, --device, --threads and --data can.");
            }

            run = new RunFolder(resumePath);
            var config = RunConfig.Read(run.Config);
            settings = config.Settings with
            {
                Epochs = result.Given(epochs, config.Settings.Epochs),
                Device = result.Given(device, config.Settings.Device),
                Threads = result.Given(threads, config.Settings.Threads),
                Data = result.Given(data, config.Settings.Data),
                MaxSequences = config.Settings.MaxSequences,
            };
        }
        else
        {
            settings = Build(result);
            run = RunFolder.NewIn(result.GetValue(runsDir)!, settings.Model);
        }

        using var dev = Device.Create(settings.Device, settings.Threads);
        console.Line($"Device: {dev.Name} ({dev.Description})");
        var corpus = CorpusData.Load(console, settings.Data, settings.MaxSequences, settings.ValidationFraction);
        var runner = new TrainingRunner(console, settings, run, corpus, dev, result.GetValue(stopAfterBatches), cancellation);
        return runner.Run(resuming);
    }

    private TrainSettings Build(ParseResult r)
    {
        var basis = TrainSettings.FromPreset(r.GetValue(preset)!);
        return basis with
        {
            Model = r.GetValue(model)!,
            Device = r.GetValue(device)!,
            Threads = r.GetValue(threads),
            N = r.Given(n, basis.N),
            NgramHidden = r.Given(ngramHidden, basis.NgramHidden),
            NgramActivation = r.WasGiven(ngramActivation) ? ParseActivation(r.GetValue(ngramActivation)!) : basis.NgramActivation,
            NgramWindows = r.WasGiven(ngramWindows) ? OptionParsing.WindowsPerSequence(r.GetValue(ngramWindows)) : basis.NgramWindows,
            LstmHidden = r.Given(lstmHidden, basis.LstmHidden),
            LstmLayers = r.Given(lstmLayers, basis.LstmLayers),
            LstmDropout = r.Given(lstmDropout, basis.LstmDropout),
            Epochs = r.Given(epochs, basis.Epochs),
            LearningRate = r.Given(learningRate, basis.LearningRate),
            Batch = r.Given(batch, basis.Batch),
            Seed = r.Given(seed, basis.Seed),
            ValidationFraction = r.Given(validationFraction, basis.ValidationFraction),
            MaxBatches = r.Given(maxBatches, basis.MaxBatches),
            ClipNorm = r.Given(clipNorm, basis.ClipNorm),
            SampleLength = r.Given(sampleLength, basis.SampleLength),
            Data = r.GetValue(data) is { } path ? Path.GetFullPath(path) : null,
            MaxSequences = r.GetValue(maxSequences),
        };
    }

    private static Activation ParseActivation(string name) => name switch
    {
        "tanh" => Activation.Tanh,
        "sigmoid" => Activation.Sigmoid,
        _ => Activation.Relu,
    };
}

/// <summary>config.json: the settings of a run, the data it saw and where it ran.</summary>
/// <param name="Settings">Every setting.</param>
/// <param name="Data">The data summary.</param>
/// <param name="Device">The device's description.</param>
/// <param name="Created">When the run started.</param>
internal sealed record RunConfig(TrainSettings Settings, DataSummary Data, string Device, DateTimeOffset Created)
{
    /// <summary>Reads config.json.</summary>
    public static RunConfig Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new IOException($"{path} does not exist: --resume needs a run folder written by 'train'.");
        }

        try
        {
            return JsonSerializer.Deserialize<RunConfig>(File.ReadAllText(path), TrainSettings.Json)
                ?? throw new IOException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new IOException($"{path} is not a valid run configuration: {e.Message}", e);
        }
    }

    /// <summary>Writes config.json atomically.</summary>
    public void Write(string path)
    {
        var json = JsonSerializer.Serialize(this, TrainSettings.Json);
        Models.Checkpoints.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.Write(json);
        });
    }
}

/// <summary>What a run trained on.</summary>
internal sealed record DataSummary(
    string Source,
    int TrainDocuments,
    int TestDocuments,
    int Sequences,
    int TrainSequences,
    int ValidationSequences,
    string Vocabulary,
    int VocabularySize,
    int? NgramVocabularySize,
    int? NgramTrainWindows,
    int? NgramValidationWindows);
