using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tensorlet.Kernels;

namespace Tensorlet.Samples.CharPredict;

/// <summary><c>train</c>: trains the n-gram MLP, the LSTM or both, into a run folder.</summary>
internal sealed class TrainCommand
{
    private readonly AppConsole console;
    private readonly CancellationToken cancellation;
    private readonly Option<string> model = new Option<string>("--model") { Description = "Which model to train", DefaultValueFactory = _ => "both" }.AcceptOnlyFromAmongFluent("ngram", "lstm", "both");
    private readonly Option<string> device = new("--device") { Description = "auto, cpu, cuda or ilgpu-cpu", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores)", DefaultValueFactory = _ => 0 }.InRange(0, 4096);
    private readonly Option<string> preset = new Option<string>("--preset") { Description = "default (about 10 minutes on 2 CPU cores) or notebook (the notebook's full scale)", DefaultValueFactory = _ => "default" }.AcceptOnlyFromAmongFluent("default", "notebook");
    private readonly Option<int> n = new Option<int>("--n") { Description = "Characters per n-gram", DefaultValueFactory = _ => TrainSettings.Default.N }.Positive();
    private readonly Option<int> ngramHidden = new Option<int>("--ngram-hidden") { Description = "n-gram MLP hidden width", DefaultValueFactory = _ => TrainSettings.Default.NgramHidden }.Positive();
    private readonly Option<string> ngramActivation = new Option<string>("--ngram-activation") { Description = "relu, tanh or sigmoid", DefaultValueFactory = _ => "relu" }.AcceptOnlyFromAmongFluent("relu", "tanh", "sigmoid");
    private readonly Option<string> ngramWindows = new("--ngram-windows") { HelpName = "N|all", Description = "n-gram training windows per sequence: a number, or all (the notebook: 10)", DefaultValueFactory = _ => "10" };
    private readonly Option<int> lstmHidden = new Option<int>("--lstm-hidden") { Description = "LSTM hidden size", DefaultValueFactory = _ => TrainSettings.Default.LstmHidden }.Positive();
    private readonly Option<int> lstmLayers = new Option<int>("--lstm-layers") { Description = "LSTM layers", DefaultValueFactory = _ => TrainSettings.Default.LstmLayers }.Positive();
    private readonly Option<float> lstmDropout = new Option<float>("--lstm-dropout") { Description = "Dropout between LSTM layers", DefaultValueFactory = _ => TrainSettings.Default.LstmDropout }.InRange(0f, 1f);
    private readonly Option<int> epochs = new Option<int>("--epochs") { Description = "Epochs per model", DefaultValueFactory = _ => TrainSettings.Default.Epochs }.Positive();
    private readonly Option<float> learningRate = new Option<float>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => TrainSettings.Default.LearningRate }.Positive();
    private readonly Option<int> batch = new Option<int>("--batch") { Description = "Sequences (LSTM) or windows (n-gram) per batch", DefaultValueFactory = _ => TrainSettings.Default.Batch }.Positive();
    private readonly Option<int> seed = new("--seed") { Description = "Seed of the initialisation, shuffles, dropout and samples", DefaultValueFactory = _ => TrainSettings.Default.Seed };
    private readonly Option<double> validationFraction = new Option<double>("--validation-fraction") { Description = "Share of sequences held out", DefaultValueFactory = _ => TrainSettings.Default.ValidationFraction }.InRange(1e-9, 1.0);
    private readonly Option<int?> maxBatches = new Option<int?>("--max-batches") { Description = "Stop each epoch after this many batches (short runs)" }.PositiveOrNull();
    private readonly Option<double?> clipNorm = new Option<double?>("--clip-norm") { Description = "Clip the global gradient norm (default: no clipping, as the notebook)" }.PositiveOrNull();
    private readonly Option<int> sampleLength = new Option<int>("--sample-length") { Description = "Characters generated after each epoch", DefaultValueFactory = _ => TrainSettings.Default.SampleLength }.InRange(0, 100_000);
    private readonly Option<string?> data = CommonOptions.Data();
    private readonly Option<int?> maxSequences = CommonOptions.MaxSequences();
    private readonly Option<string> runsDir = new("--runs-dir") { HelpName = "DIR", Description = "The folder that holds run folders", DefaultValueFactory = _ => "runs" };
    private readonly Option<string?> resume = new("--resume") { HelpName = "RUN", Description = "Continue the run in this folder from its last checkpoint" };
    private readonly Option<int?> stopAfterBatches = new Option<int?>("--stop-after-batches") { Description = "Stop as Ctrl+C would after this many batches (tests)", Hidden = true }.PositiveOrNull();

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
            run = RunFolder.CreateNew(result.GetValue(runsDir)!, settings.Model);
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
            NgramWindows = r.WasGiven(ngramWindows) ? ParseWindows(r.GetValue(ngramWindows)!) : basis.NgramWindows,
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

    private static int? ParseWindows(string text)
    {
        if (string.Equals(text, "all", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int windows) && windows > 0
            ? windows
            : throw new ArgumentException($"--ngram-windows takes a positive number or 'all'; got '{text}'.");
    }
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
