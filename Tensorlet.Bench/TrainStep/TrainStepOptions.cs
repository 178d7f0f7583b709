using System.Globalization;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// The arguments of <c>train-step</c>:
/// <c>--model lstm|ngram [--cell lstm|gru] --hidden H --layers L --batch B --batches N --warmup W --device D [--threads T] [--n 3]
/// [--dropout P] [--seed S] [--synthetic] [--profile]</c>. It times the library's defaults on each device; the ILGPU
/// kernel variants are measured in the workbench, dev/IlgpuKernels.
/// </summary>
internal sealed record TrainStepOptions
{
    /// <summary>The usage printed on a bad argument.</summary>
    public const string Usage =
        "usage: train-step --model lstm|ngram [--cell lstm|gru] [--hidden H] [--layers L] [--batch B] [--batches N] [--warmup W] " +
        "[--device cpu|cuda|ilgpu-cpu|auto] [--threads T] [--n 3] [--dropout P] [--seed S] [--synthetic] [--profile]\n" +
        "  --cell, with --model lstm: the recurrent layer, nn.LSTM (default) or nn.GRU";

    /// <summary>lstm or ngram.</summary>
    public string Model { get; init; } = "lstm";

    /// <summary>The recurrent model's layer: lstm or gru (ignored for the n-gram model).</summary>
    public string Cell { get; init; } = "lstm";

    /// <summary>The hidden width H (the notebook's n-gram MLP: 100).</summary>
    public int Hidden { get; init; } = 256;

    /// <summary>Stacked LSTM layers (ignored for the n-gram model).</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Sequences (LSTM) or windows (n-gram) per batch.</summary>
    public int Batch { get; init; } = 100;

    /// <summary>Timed batches.</summary>
    public int Batches { get; init; } = 10;

    /// <summary>Untimed batches first (kernel loading, first-touch of buffers, packing, JIT tiering).</summary>
    public int Warmup { get; init; } = 2;

    /// <summary>The device name.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>CPU kernel threads; 0 means all cores.</summary>
    public int Threads { get; init; }

    /// <summary>The n of the n-gram model.</summary>
    public int N { get; init; } = 3;

    /// <summary>Dropout between LSTM layers (the step timing barely depends on it; 0 by default, as the fixtures).</summary>
    public float Dropout { get; init; }

    /// <summary>Seeds the weights and the batch order.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Random character ids instead of the corpus (same shapes, vocabulary 32; n-gram vocabulary 4669).</summary>
    public bool Synthetic { get; init; }

    /// <summary>Also time the kernel categories of each batch (synchronizing after every kernel).</summary>
    public bool Profile { get; init; }

    /// <summary>Parses the arguments after <c>train-step</c>.</summary>
    /// <exception cref="ArgumentException">An argument is unknown, lacks its value or is out of range.</exception>
    public static TrainStepOptions Parse(IReadOnlyList<string> args)
    {
        var o = new TrainStepOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value()
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{name} needs a value.");
                }

                return args[++i];
            }

            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
                ? v
                : throw new ArgumentException($"{name} needs an integer; got '{args[i]}'.");

            o = name switch
            {
                "--model" => o with { Model = Value().ToLowerInvariant() },
                "--cell" => o with { Cell = Value().ToLowerInvariant() },
                "--hidden" => o with { Hidden = Int() },
                "--layers" => o with { Layers = Int() },
                "--batch" => o with { Batch = Int() },
                "--batches" => o with { Batches = Int() },
                "--warmup" => o with { Warmup = Int() },
                "--device" => o with { Device = Value() },
                "--threads" => o with { Threads = Int() },
                "--n" => o with { N = Int() },
                "--dropout" => o with { Dropout = float.Parse(Value(), CultureInfo.InvariantCulture) },
                "--seed" => o with { Seed = Int() },
                "--synthetic" => o with { Synthetic = true },
                "--profile" => o with { Profile = true },
                _ => throw new ArgumentException($"Unknown argument '{name}'."),
            };
        }

        o.Validate();
        return o;
    }

    private void Validate()
    {
        if (Model is not ("lstm" or "ngram"))
        {
            throw new ArgumentException($"--model must be lstm or ngram; got '{Model}'.");
        }

        if (Cell is not ("lstm" or "gru"))
        {
            throw new ArgumentException($"--cell must be lstm or gru; got '{Cell}'.");
        }

        static void Positive(int value, string name)
        {
            if (value <= 0)
            {
                throw new ArgumentException($"{name} must be positive; got {value}.");
            }
        }

        Positive(Hidden, "--hidden");
        Positive(Layers, "--layers");
        Positive(Batch, "--batch");
        Positive(Batches, "--batches");
        Positive(N, "--n");
        if (Warmup < 0 || Threads < 0)
        {
            throw new ArgumentException("--warmup and --threads must not be negative.");
        }

        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentException($"--dropout must be in [0, 1); got {Dropout}.");
        }
    }
}
