using System.CommandLine;
using Tensorlet.CommandLine;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// The arguments of <c>train-step</c>, parsed by System.CommandLine with the shared numeric parser
/// (<see cref="OptionParsing"/>): <c>--model lstm|ngram|cnn [--cell lstm|gru|rnn] --hidden H --layers L --batch B --batches N --warmup W
/// --device D [--threads T] [--n 3] [--dropout P] [--seed S] [--synthetic] [--profile] [--recurrence split|wavefront]</c>. It times the library's
/// defaults on each device; the ILGPU kernel variants are measured in the workbench, dev/IlgpuKernels. A flag of
/// another model is a parse error: the recurrent model's (--cell, --layers, --dropout, --recurrence) with
/// <c>--model ngram</c> or <c>cnn</c>, the n-gram model's (--n) with <c>--model lstm</c> or <c>cnn</c>, and --hidden,
/// which both char models take, with <c>--model cnn</c>, whose network is fixed (<see cref="TrainStepCnn"/>).
/// </summary>
internal sealed record TrainStepOptions
{
    /// <summary>lstm, ngram or cnn.</summary>
    public string Model { get; init; } = "lstm";

    /// <summary>With <c>--model lstm</c>: the recurrent layer, lstm (nn.LSTM), gru (nn.GRU) or rnn (nn.RNN, tanh).</summary>
    public string Cell { get; init; } = "lstm";

    /// <summary>The hidden width H: 256 for the LSTM, the notebook's 100 for the n-gram MLP unless given.</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>The notebook's n-gram MLP hidden width, <c>--hidden</c>'s default with <c>--model ngram</c>.</summary>
    public const int NgramHidden = 100;

    /// <summary>Stacked LSTM layers (with <c>--model lstm</c> only).</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Sequences (LSTM), windows (n-gram) or images (CNN) per batch.</summary>
    public int Batch { get; init; } = 100;

    /// <summary>Timed batches.</summary>
    public int Batches { get; init; } = 10;

    /// <summary>Untimed batches first (kernel loading, first-touch of buffers, packing, JIT tiering).</summary>
    public int Warmup { get; init; } = 2;

    /// <summary>The device name.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>CPU kernel threads, 0 meaning all cores; null when <c>--threads</c> was not given (all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>The n of the n-gram model.</summary>
    public int N { get; init; } = 3;

    /// <summary>Dropout between LSTM layers (the step timing barely depends on it; 0 by default, as the fixtures).</summary>
    public float Dropout { get; init; }

    /// <summary>Seeds the weights and the batch order.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Random character ids instead of the corpus (same shapes, vocabulary 32; n-gram vocabulary 4669); the CNN's images are always random.</summary>
    public bool Synthetic { get; init; }

    /// <summary>Also time the kernel categories of each batch (synchronizing after every kernel).</summary>
    public bool Profile { get; init; }

    /// <summary>For <c>cpu</c>: the stacked LSTM layers' schedule, <c>split</c> or <c>wavefront</c>; null for the machine plan's.</summary>
    public string? Recurrence { get; init; }

    /// <summary>The <c>train-step</c> command, which runs <paramref name="run"/> on the parsed options.</summary>
    public static Command Command(Func<TrainStepOptions, int> run)
    {
        var d = new TrainStepOptions();
        var model = new Option<string>("--model") { Description = "lstm, ngram or cnn (an image classifier on random 3×32×32 images)", DefaultValueFactory = _ => d.Model };
        model.AcceptOnlyFromAmong("lstm", "ngram", "cnn");
        var cell = new Option<string>("--cell") { Description = "With --model lstm: the recurrent layer, lstm, gru or rnn (tanh)", DefaultValueFactory = _ => d.Cell };
        cell.AcceptOnlyFromAmong("lstm", "gru", "rnn");
        var hidden = OptionParsing.Number("--hidden", $"Hidden width H ({d.Hidden}; {NgramHidden} with --model ngram)", d.Hidden, NumberRange<int>.Positive(CharModelSpec.MaxHiddenSize));
        var layers = OptionParsing.Number("--layers", "Stacked LSTM layers", d.Layers, NumberRange<int>.Positive(CharModelSpec.MaxLayers));
        var batch = OptionParsing.Number("--batch", "Sequences (LSTM), windows (n-gram) or images (CNN) per batch", d.Batch, NumberRange<int>.Positive(1_000_000));
        var batches = OptionParsing.Number("--batches", "Timed batches", d.Batches, NumberRange<int>.Positive(1_000_000));
        var warmup = OptionParsing.Number("--warmup", "Untimed batches first", d.Warmup, new NumberRange<int>(0, 1_000_000));
        var device = new Option<string>("--device") { Description = "cpu, cuda, ilgpu-cpu or auto", DefaultValueFactory = _ => d.Device };
        var threads = OptionParsing.Number("--threads", "With --device cpu: CPU threads (0: all cores)", 0, new NumberRange<int>(0, 4_096));
        var n = OptionParsing.Number("--n", "Characters per n-gram", d.N, NumberRange<int>.Positive(TrainStepData.SequenceLength - 1));
        var dropout = OptionParsing.Number("--dropout", "Dropout between LSTM layers", d.Dropout, new NumberRange<float>(0f, 1f, MaxOpen: true));
        var seed = OptionParsing.Number("--seed", "Seeds the weights and the batch order", d.Seed, new NumberRange<int>(int.MinValue, int.MaxValue));
        var synthetic = new Option<bool>("--synthetic") { Description = "Random character ids instead of the corpus (the CNN's images are always random)" };
        var profile = new Option<bool>("--profile") { Description = "Also time the kernel categories of each batch" };
        var recurrence = new Option<string?>("--recurrence") { Description = "With --device cpu: the stacked LSTM layers' schedule, split or wavefront (default: the machine plan's)" };
        recurrence.AcceptOnlyFromAmong("split", "wavefront");
        var command = new Command("train-step", "Time the training step of the notebook's models")
        {
            model, cell, hidden, layers, batch, batches, warmup, device, threads, n, dropout, seed, synthetic, profile, recurrence,
        };

        // A flag of another model would be ignored, and the report would not say what ran: a parse error (one line,
        // exit 2) names it and the models that take it. An unknown --model is already its option's error.
        (Option Option, string[] Models)[] owners =
        [
            (cell, ["lstm"]), (layers, ["lstm"]), (dropout, ["lstm"]), (recurrence, ["lstm"]), (n, ["ngram"]), (hidden, ["lstm", "ngram"]),
        ];
        command.Validators.Add(r =>
        {
            string? modelName = r.GetResult(model) is { Implicit: false } given ? given.Tokens.FirstOrDefault()?.Value : d.Model;
            if (modelName is not ("lstm" or "ngram" or "cnn"))
            {
                return;
            }

            var misplaced = owners.Where(o => !o.Models.Contains(modelName) && r.GetResult(o.Option) is { Implicit: false })
                .GroupBy(o => string.Join(" or ", o.Models.Select(m => $"--model {m}")), o => o.Option.Name)
                .Select(g => $"{string.Join(", ", g)} appl{(g.Count() == 1 ? "ies" : "y")} to {g.Key} only")
                .ToArray();
            if (misplaced.Length > 0)
            {
                r.AddError($"{string.Join("; ", misplaced)}; this run's model is {modelName}.");
            }
        });
        command.SetAction(r => run(new TrainStepOptions
        {
            Model = r.GetValue(model)!,
            Cell = r.GetValue(cell)!,
            Hidden = r.GetValue(model) == "ngram" && !r.WasGiven(hidden) ? NgramHidden : r.GetValue(hidden),
            Layers = r.GetValue(layers),
            Batch = r.GetValue(batch),
            Batches = r.GetValue(batches),
            Warmup = r.GetValue(warmup),
            Device = r.GetValue(device)!,
            Threads = r.WasGiven(threads) ? r.GetValue(threads) : null,
            N = r.GetValue(n),
            Dropout = r.GetValue(dropout),
            Seed = r.GetValue(seed),
            Synthetic = r.GetValue(synthetic),
            Profile = r.GetValue(profile),
            Recurrence = r.GetValue(recurrence),
        }));
        return command;
    }
}
