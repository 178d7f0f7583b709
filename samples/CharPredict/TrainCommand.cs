using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Samples.CharPredict;

/// <summary><c>train</c>: trains the n-gram MLP, the LSTM or both, into a run folder.</summary>
internal sealed class TrainCommand
{
    private readonly AppConsole console;
    private readonly CancellationToken cancellation;
    private readonly Option<string> model = new Option<string>("--model") { Description = "Which model to train (lstm: the recurrent model, whose cell --cell picks)", DefaultValueFactory = _ => "both" }.AcceptOnlyFromAmongFluent(TrainSettings.ModelNames);
    private readonly Option<string> device = new("--device") { Description = "auto, cpu, cuda or ilgpu-cpu", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> threads = OptionParsing.Number("--threads", "CPU threads (0: all cores)", 0, SettingRanges.Threads);
    private readonly Option<string> preset = new Option<string>("--preset") { Description = "default (about 10 minutes on 2 CPU cores) or notebook (the notebook's full scale)", DefaultValueFactory = _ => "default" }.AcceptOnlyFromAmongFluent(TrainSettings.Presets);
    private readonly Option<int> n = OptionParsing.Number("--n", "Characters per n-gram", TrainSettings.Default.N, SettingRanges.N);
    private readonly Option<int> ngramHidden = OptionParsing.Number("--ngram-hidden", "n-gram MLP hidden width", TrainSettings.Default.NgramHidden, SettingRanges.HiddenSize);
    private readonly Option<string> ngramActivation = new Option<string>("--ngram-activation") { Description = "relu, tanh, sigmoid, gelu (exact, as nn.GELU()), silu (as nn.SiLU()) or leaky_relu (slope 0.01, as nn.LeakyReLU())", DefaultValueFactory = _ => "relu" }.AcceptOnlyFromAmongFluent(TrainSettings.Activations);
    private readonly Option<int> ngramWindows = OptionParsing.NgramWindows("n-gram training windows per sequence: a number, or all (the notebook: 10)", TrainSettings.Default.NgramWindows);
    private readonly Option<int> lstmHidden = OptionParsing.Number("--lstm-hidden", "Recurrent hidden size (LSTM, GRU or RNN)", TrainSettings.Default.LstmHidden, SettingRanges.HiddenSize);
    private readonly Option<int> lstmLayers = OptionParsing.Number("--lstm-layers", "Recurrent layers (LSTM, GRU or RNN)", TrainSettings.Default.LstmLayers, SettingRanges.Layers);
    private readonly Option<float> lstmDropout = OptionParsing.Number("--lstm-dropout", "Dropout between recurrent layers", TrainSettings.Default.LstmDropout, SettingRanges.Dropout);
    private readonly Option<int> epochs = OptionParsing.Number("--epochs", "Epochs per model", TrainSettings.Default.Epochs, SettingRanges.Epochs);
    private readonly Option<string> optimizer = new Option<string>("--optimizer") { Description = "adam, adamw (decoupled weight decay), sgd or rmsprop (char-rnn's); each model of the run trains with it", DefaultValueFactory = _ => "adam" }.AcceptOnlyFromAmongFluent(TrainSettings.Optimizers);
    private readonly Option<float> learningRate = OptionParsing.Number("--lr", "Learning rate: adam's, adamw's and rmsprop's step size; sgd's factor of the gradient (sgd usually needs a larger one, such as 0.1 to 1)", TrainSettings.Default.LearningRate, SettingRanges.LearningRate);
    private readonly Option<float> weightDecay = OptionParsing.Number("--weight-decay", "Weight decay, 0 for every optimizer unless given (torch's AdamW default is 0.01): an L2 term in the gradient for adam, sgd and rmsprop, decoupled for adamw", 0f, SettingRanges.WeightDecay);
    private readonly Option<float> momentum = OptionParsing.Number("--momentum", "sgd and rmsprop: momentum (0: none)", 0f, SettingRanges.Momentum);
    private readonly Option<float> alpha = OptionParsing.Number("--alpha", "rmsprop: smoothing constant of the mean square (torch's 0.99; char-rnn's 0.95)", TrainSettings.DefaultAlpha, SettingRanges.Alpha);
    private readonly Option<bool> centered = new("--centered") { Description = "rmsprop: divide by the root of the mean square less the mean gradient's square, an estimate of the variance (torch's centered=True)" };
    private readonly Option<bool> amsgrad = new("--amsgrad") { Description = "adam and adamw: divide by the root of the running maximum of the second moment, which never shrinks (torch's amsgrad=True)" };
    private readonly Option<int> batch = OptionParsing.Number("--batch", "Sequences (LSTM) or windows (n-gram) per batch", TrainSettings.Default.Batch, SettingRanges.Batch);
    private readonly Option<int> seed = OptionParsing.Number("--seed", "Seed of the initialisation, shuffles, dropout and samples", TrainSettings.Default.Seed, SettingRanges.Seed);
    private readonly Option<double> validationFraction = OptionParsing.Number("--validation-fraction", "Share held out for validation: of the sequences, or the end of a --text (default 0.05 there)", TrainSettings.Default.ValidationFraction, SettingRanges.ValidationFraction);
    private readonly Option<int?> maxBatches = OptionParsing.OptionalNumber("--max-batches", "Stop each epoch after this many batches (short runs)", SettingRanges.MaxBatches);
    private readonly Option<double?> clipNorm = OptionParsing.OptionalNumber("--clip-norm", "Clip the global gradient norm (default: no clipping, as the notebook)", SettingRanges.ClipNorm);
    private readonly Option<int> sampleLength = OptionParsing.Number("--sample-length", "Characters generated after each epoch", TrainSettings.Default.SampleLength, SettingRanges.SampleLength);
    private readonly Option<string?> text = new("--text") { HelpName = "PATH", Description = "Train on this UTF-8 text file, or on the *.txt files of this folder in sorted order, instead of 20 Newsgroups" };
    private readonly Option<bool> lowercase = new("--lowercase") { Description = "Lowercase the text (--text)" };
    private readonly Option<int> seqLen = OptionParsing.Number("--seq-len", "Characters predicted per training sequence of a text (--text)", TrainSettings.DefaultSeqLen, SettingRanges.SeqLen);
    private readonly Option<bool> stateful = new("--stateful") { Description = "Cut the text into --batch parallel streams and carry the recurrent state from batch to batch (--text)" };
    private readonly Option<string> cell = new Option<string>("--cell") { Description = "The recurrent model's cell", DefaultValueFactory = _ => "lstm" }.AcceptOnlyFromAmongFluent(TrainSettings.Cells);
    private readonly Option<string> schedule = new Option<string>("--schedule") { Description = "Learning-rate schedule (default: none, or char-rnn with --lr-decay)", DefaultValueFactory = _ => "none" }.AcceptOnlyFromAmongFluent(TrainSettings.Schedules);
    private readonly Option<double?> lrDecay = OptionParsing.OptionalNumber("--lr-decay", "The schedule's factor: char-rnn's decay rate (0.97), StepLR's and ExponentialLR's gamma, ReduceLROnPlateau's factor (0.1)", SettingRanges.LrDecay);
    private readonly Option<int> lrDecayAfter = OptionParsing.Number("--lr-decay-after", "char-rnn: decay the learning rate after every epoch from this one on", TrainSettings.DefaultLrDecayAfter, SettingRanges.LrDecayAfter);
    private readonly Option<int> lrStepSize = OptionParsing.Number("--lr-step-size", "step: epochs between decays", TrainSettings.DefaultLrStepSize, SettingRanges.LrStepSize);
    private readonly Option<int> warmupSteps = OptionParsing.Number("--warmup-steps", "warmup-cosine: batches of linear warm-up", 0, SettingRanges.WarmupSteps);
    private readonly Option<int> lrPatience = OptionParsing.Number("--lr-patience", "plateau: epochs without improvement before the decay", TrainSettings.DefaultLrPatience, SettingRanges.LrPatience);
    private readonly Option<int?> checkpointEvery = OptionParsing.OptionalNumber("--checkpoint-every", "Also save the checkpoint every N batches", SettingRanges.CheckpointEvery);
    private readonly Option<string?> initFrom = new("--init-from") { HelpName = "FILE", Description = "Start the recurrent model from this checkpoint (lstm.safetensors, gru.safetensors, rnn.safetensors or a .best one): its cell, sizes, vocabulary and weights, with a fresh optimizer" };
    private readonly Option<string?> data = CommonOptions.Data();
    private readonly Option<int?> maxSequences = CommonOptions.MaxSequences();
    private readonly Option<string> runsDir = new("--runs-dir") { HelpName = "DIR", Description = "The folder that holds run folders", DefaultValueFactory = _ => "runs" };
    private readonly Option<string?> resume = new("--resume") { HelpName = "RUN", Description = "Continue the run in this folder from its last checkpoint" };
    private readonly Option<int?> stopAfterBatches = OptionParsing.OptionalNumber("--stop-after-batches", "Stop as Ctrl+C would after this many batches (tests)", NumberRange<int>.Positive(), hidden: true);
    private readonly Option<int?> abortAfterBatches = OptionParsing.OptionalNumber("--abort-after-batches", "End at once after this many batches, saving nothing more, as a killed process would (tests)", NumberRange<int>.Positive(), hidden: true);

    public TrainCommand(AppConsole console, CancellationToken cancellation)
    {
        this.console = console;
        this.cancellation = cancellation;
        Command = new Command("train", "Train the n-gram MLP, the LSTM (or GRU or RNN) or both, on 20 Newsgroups or a text of your own, and write a run folder");
        foreach (var option in FixedOptions().Concat([device, threads, epochs, data, maxSequences, runsDir, resume, stopAfterBatches, abortAfterBatches]))
        {
            Command.Options.Add(option);
        }

        Command.Validators.Add(Validate);
        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    // Options a resumed run takes from its config.json and may not change.
    private IEnumerable<Option> FixedOptions() =>
        [model, preset, n, ngramHidden, ngramActivation, ngramWindows, lstmHidden, lstmLayers, lstmDropout, optimizer, learningRate, weightDecay, momentum, alpha, centered, amsgrad, batch, seed, validationFraction, maxBatches, clipNorm, sampleLength,
            text, lowercase, seqLen, stateful, cell, schedule, lrDecay, lrDecayAfter, lrStepSize, warmupSteps, lrPatience, checkpointEvery, initFrom];

    private int Execute(ParseResult result)
    {
        TrainSettings settings;
        RunFolder run;
        CharVocabulary? vocabulary = null;
        DataSummary? trainedOn = null;
        bool resuming = result.GetValue(resume) is not null;
        if (result.GetValue(resume) is { } resumePath)
        {
            if (result.WasGiven(runsDir))
            {
                throw new ArgumentException($"--runs-dir does not go with --resume: the run stays in {resumePath}.");
            }

            var changed = FixedOptions().Append(maxSequences).Where(result.WasGiven).Select(o => o.Name).ToArray();
            if (changed.Length > 0)
            {
                throw new ArgumentException(
                    $"{string.Join(", ", changed)} cannot change when resuming (the run's config.json fixes them); only --epochs, --device, --threads and --data can.");
            }

            run = new RunFolder(resumePath);
            var config = RunConfig.Read(run.Config);
            if (result.WasGiven(data) && config.Settings.Text is not null)
            {
                throw new ArgumentException("--data does not go with a run trained on --text; its config.json names the text.");
            }

            settings = config.Settings with
            {
                Epochs = result.Given(epochs, config.Settings.Epochs),
                Device = result.Given(device, config.Settings.Device),
                Threads = result.Given(threads, config.Settings.Threads),
                Data = result.Given(data, config.Settings.Data),
                MaxSequences = config.Settings.MaxSequences,
            };

            // A run started from a checkpoint keeps that checkpoint's vocabulary, which its config.json records.
            vocabulary = settings.InitFrom is null ? null : CharVocabulary.Deserialize(config.Data.Vocabulary);
            trainedOn = config.Data;
        }
        else
        {
            settings = Build(result);
            if (result.GetValue(initFrom) is { } checkpointPath)
            {
                (settings, vocabulary) = FromCheckpoint(settings, Path.GetFullPath(checkpointPath), result.WasGiven(lstmDropout));
            }

            run = RunFolder.NewIn(result.GetValue(runsDir)!, settings.Model == "lstm" ? RunFolder.NameOf(settings.RecurrentKind) : settings.Model);
        }

        // The data is read, and checked, before the device is made: a bad text costs nothing. A run started from a
        // checkpoint reads it as ids of the checkpoint's vocabulary.
        ITrainingData corpus = settings.Text is { } textPath
            ? TextData.Load(textPath, settings.Lowercase, settings.ValidationFraction, vocabulary)
            : CorpusData.Load(console, settings.Data, settings.MaxSequences, settings.ValidationFraction, vocabulary);
        if (trainedOn is not null)
        {
            EnsureSameData(trainedOn, corpus.Summarize(null), corpus.Source);
        }

        using var dev = Device.Create(settings.Device, settings.Threads);
        console.Line($"Device: {dev.Name} ({dev.Description}); optimizer: {RunOptimizer.Describe(settings)}");
        var runner = new TrainingRunner(console, settings, run, corpus, dev, result.GetValue(stopAfterBatches), result.GetValue(abortAfterBatches), cancellation);
        return runner.Run(resuming);
    }

    // A resumed run must see the data it was trained on: a text that grew or changed would train and validate on other
    // characters, and its losses would no longer compare with the epochs before.
    private static void EnsureSameData(DataSummary then, DataSummary now, string source)
    {
        if (now.Vocabulary != then.Vocabulary)
        {
            var (before, after) = (CharVocabulary.Deserialize(then.Vocabulary), CharVocabulary.Deserialize(now.Vocabulary));
            string added = after.QuoteMissingFrom(before), gone = before.QuoteMissingFrom(after);
            throw new CorpusException(source, string.Create(
                CultureInfo.InvariantCulture,
                $"{source} gives a different vocabulary from the one the run was trained on ({after.Count} characters now, {before.Count} then{(added.Length > 0 ? $"; new: {added}" : "")}{(gone.Length > 0 ? $"; gone: {gone}" : "")}); train a new run on it."));
        }

        var counts = new (string What, int? Then, int? Now)[]
        {
            ("characters", then.Characters, now.Characters),
            ("training characters", then.TrainCharacters, now.TrainCharacters),
            ("sequences", then.Sequences, now.Sequences),
            ("training sequences", then.TrainSequences, now.TrainSequences),
        };
        if (counts.FirstOrDefault(c => c.Then != c.Now) is { What: not null } changed)
        {
            throw new CorpusException(source, string.Create(
                CultureInfo.InvariantCulture,
                $"{source} has changed since the run started: {changed.Now:N0} {changed.What} now, {changed.Then:N0} then; train a new run on it."));
        }
    }

    // Options that do not go together: parse errors (one line, exit 2) like a bad number. A resumed run's options are
    // checked against its config.json instead.
    private void Validate(CommandResult r)
    {
        if (r.GetResult(resume) is { Implicit: false })
        {
            return;
        }

        bool Given(Option option) => r.GetResult(option) is { Implicit: false };
        if (Given(initFrom))
        {
            var fixedByCheckpoint = new Option[] { cell, lstmHidden, lstmLayers }.Where(Given).Select(o => o.Name).ToArray();
            if (fixedByCheckpoint.Length > 0)
            {
                r.AddError($"{string.Join(", ", fixedByCheckpoint)} come{(fixedByCheckpoint.Length == 1 ? "s" : "")} from the --init-from checkpoint.");
                return;
            }

            if (Given(model) && r.GetResult(model)!.Tokens.FirstOrDefault()?.Value is { } modelName && modelName != "lstm")
            {
                r.AddError($"--init-from starts the recurrent model from a checkpoint; --model {modelName} does not go with it.");
                return;
            }
        }

        if (!Given(text))
        {
            var textOnly = new Option[] { lowercase, seqLen, stateful }.Where(Given).Select(o => o.Name).ToArray();
            if (textOnly.Length > 0)
            {
                r.AddError($"{string.Join(", ", textOnly)} need{(textOnly.Length == 1 ? "s" : "")} --text: 20 Newsgroups comes as independent 100-character sequences.");
            }
        }
        else if (Given(data) || Given(maxSequences))
        {
            r.AddError("--text replaces 20 Newsgroups: --data and --max-sequences do not go with it.");
        }
        else if (Given(ngramWindows))
        {
            r.AddError("--ngram-windows does not go with --text: on a text, the n-gram model trains on every window.");
        }

        // An unknown --schedule is already its option's parse error; GetValue would throw here, inside the parser.
        string? givenSchedule = Given(schedule) ? r.GetResult(schedule)!.Tokens.FirstOrDefault()?.Value : null;
        if (givenSchedule is not null && !TrainSettings.Schedules.Contains(givenSchedule))
        {
            return;
        }

        string scheduleName = givenSchedule ?? (Given(lrDecay) ? "char-rnn" : "none");
        var parameters = new (Option Option, string[] Schedules)[]
        {
            (lrDecay, TrainSettings.DecayingSchedules),
            (lrDecayAfter, ["char-rnn"]),
            (lrStepSize, ["step"]),
            (warmupSteps, ["warmup-cosine"]),
            (lrPatience, ["plateau"]),
        };
        foreach (var (option, schedules) in parameters.Where(p => Given(p.Option) && !p.Schedules.Contains(scheduleName)))
        {
            r.AddError($"{option.Name} is a parameter of --schedule {string.Join(" or ", schedules)}; this run's schedule is {scheduleName}.");
            return;
        }

        // What no data can make fit: a recurrent model too large with any vocabulary, a warm-up as long as --max-batches
        // allows the run. (A warm-up longer than the data's batches is found when the data is read.) An unknown
        // --preset, --model or --cell is already its option's parse error.
        string? Token(Option option) => Given(option) ? r.GetResult(option)!.Tokens.FirstOrDefault()?.Value : null;
        var basis = Token(preset) is var presetName && presetName is null or "default" or "notebook" ? TrainSettings.FromPreset(presetName ?? "default") : null;
        bool TryValue<T>(Option<T> option, T fallback, out T value)
        {
            value = fallback;
            try
            {
                value = Given(option) ? r.GetValue(option)! : fallback;
                return true;
            }
            catch (InvalidOperationException)
            {
                return false; // the value is its option's parse error, the one shown
            }
        }

        // An unknown --optimizer, or a --momentum, --alpha, --centered or --amsgrad that does not parse, is already its option's parse error.
        string optimizerName = Token(optimizer) ?? "adam";
        var optimizerParameters = new (Option Option, bool Parses, string[] Optimizers)[]
        {
            (momentum, TryValue(momentum, 0f, out _), RunOptimizer.WithMomentum),
            (alpha, TryValue(alpha, TrainSettings.DefaultAlpha, out _), RunOptimizer.WithAlpha),
            (centered, TryValue(centered, false, out _), RunOptimizer.WithCentered),
            (amsgrad, TryValue(amsgrad, false, out _), RunOptimizer.WithAmsgrad),
        };
        foreach (var (option, parses, optimizers) in optimizerParameters)
        {
            if (Given(option) && parses && TrainSettings.Optimizers.Contains(optimizerName)
                && RunOptimizer.ParameterError(option.Name, optimizers, optimizerName) is { } parameterError)
            {
                r.AddError(parameterError);
                return;
            }
        }

        if (basis is not null && !Given(initFrom) && (Token(model) ?? "both") is "lstm" or "both" && Token(cell) is var cellName && (cellName is null || TrainSettings.Cells.Contains(cellName))
            && TryValue(lstmHidden, basis.LstmHidden, out int hidden) && TryValue(lstmLayers, basis.LstmLayers, out int layers)
            && TrainingMemory.RecurrentSizeError(RunFolder.RecurrentKindOf(cellName ?? "lstm"), hidden, layers) is { } sizeError)
        {
            r.AddError(sizeError);
            return;
        }

        if (basis is not null && scheduleName == "warmup-cosine" && TryValue(maxBatches, basis.MaxBatches, out int? batchesAtMost) && batchesAtMost is int bound
            && TryValue(warmupSteps, 0, out int warmup) && TryValue(epochs, basis.Epochs, out int epochCount)
            && RunSchedule.WarmupError(warmup, epochCount, bound, atMost: true) is { } warmupError)
        {
            r.AddError(warmupError);
        }
    }

    // --schedule, or char-rnn when only --lr-decay is given.
    private string ScheduleName(ParseResult r) => r.WasGiven(schedule) ? r.GetValue(schedule)! : r.WasGiven(lrDecay) ? "char-rnn" : "none";

    private TrainSettings Build(ParseResult r)
    {
        var basis = TrainSettings.FromPreset(r.GetValue(preset)!);
        string? textPath = r.GetValue(text) is { } given ? Path.GetFullPath(given) : null;
        string scheduleName = ScheduleName(r);

        var settings = basis with
        {
            Text = textPath,
            Lowercase = r.GetValue(lowercase),
            SeqLen = r.GetValue(seqLen),
            Stateful = r.GetValue(stateful),
            Cell = r.GetValue(cell)!,
            Schedule = scheduleName,
            LrDecay = r.GetValue(lrDecay) ?? TrainSettings.DefaultLrDecay(scheduleName),
            LrDecayAfter = r.GetValue(lrDecayAfter),
            LrStepSize = r.GetValue(lrStepSize),
            WarmupSteps = r.GetValue(warmupSteps),
            LrPatience = r.GetValue(lrPatience),
            CheckpointEvery = r.GetValue(checkpointEvery),
            Model = r.GetValue(model)!,
            Device = r.GetValue(device)!,
            Threads = r.GetValue(threads),
            N = r.Given(n, basis.N),
            NgramHidden = r.Given(ngramHidden, basis.NgramHidden),
            NgramActivation = r.WasGiven(ngramActivation) ? TrainSettings.ActivationNamed(r.GetValue(ngramActivation)!) : basis.NgramActivation,
            NgramWindows = r.WasGiven(ngramWindows) ? OptionParsing.WindowsPerSequence(r.GetValue(ngramWindows)) : basis.NgramWindows,
            LstmHidden = r.Given(lstmHidden, basis.LstmHidden),
            LstmLayers = r.Given(lstmLayers, basis.LstmLayers),
            LstmDropout = r.Given(lstmDropout, basis.LstmDropout),
            Epochs = r.Given(epochs, basis.Epochs),
            Optimizer = r.GetValue(optimizer)!,
            LearningRate = r.Given(learningRate, basis.LearningRate),
            WeightDecay = r.GetValue(weightDecay),
            Momentum = r.GetValue(momentum),
            Alpha = r.GetValue(alpha),
            Centered = r.GetValue(centered),
            Amsgrad = r.GetValue(amsgrad),
            Batch = r.Given(batch, basis.Batch),
            Seed = r.Given(seed, basis.Seed),
            ValidationFraction = r.Given(validationFraction, textPath is null ? basis.ValidationFraction : TrainSettings.DefaultTextValidationFraction),
            MaxBatches = r.Given(maxBatches, basis.MaxBatches),
            ClipNorm = r.Given(clipNorm, basis.ClipNorm),
            SampleLength = r.Given(sampleLength, basis.SampleLength),
            Data = r.GetValue(data) is { } path ? Path.GetFullPath(path) : null,
            MaxSequences = r.GetValue(maxSequences),
        };
        return settings;
    }

    // A run started from a checkpoint (char-rnn's -init_from) trains its recurrent model: the cell, the sizes and the
    // vocabulary are the checkpoint's, and so is the dropout unless --lstm-dropout sets it.
    private static (TrainSettings Settings, CharVocabulary Vocabulary) FromCheckpoint(TrainSettings settings, string path, bool dropoutGiven)
    {
        if (Directory.Exists(path))
        {
            throw new ArgumentException($"--init-from takes a checkpoint file, such as {Path.Combine(path, "lstm.safetensors")}; {path} is a folder.");
        }

        var checkpoint = ModelCheckpoint.Read(path);
        var spec = checkpoint.Spec;
        if (spec.Kind == ModelKind.Ngram)
        {
            throw new ArgumentException($"--init-from starts the recurrent model; {path} holds an n-gram model.");
        }

        return (settings with
        {
            InitFrom = path,
            Model = "lstm",
            Cell = RunFolder.NameOf(spec.Kind),
            LstmHidden = spec.HiddenSize,
            LstmLayers = spec.NumLayers,
            LstmDropout = dropoutGiven ? settings.LstmDropout : spec.Dropout,
        }, checkpoint.Vocabulary);
    }
}
