using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Tensorlet.Kernels;

namespace Tensorlet.Samples.CharPredict;

/// <summary>Every setting of a training run; written to config.json and read back by --resume.</summary>
internal sealed record TrainSettings
{
    /// <summary>The JSON form used in config.json.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(), // so that RunConfig.Read can list the fields
    };

    /// <summary>ngram, lstm or both.</summary>
    public string Model { get; init; } = "both";

    /// <summary>auto, cpu, cuda or ilgpu-cpu.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>CPU threads (0: all cores).</summary>
    public int Threads { get; init; }

    /// <summary>The preset the defaults came from: default or notebook.</summary>
    public string Preset { get; init; } = "default";

    /// <summary>Characters per n-gram.</summary>
    public int N { get; init; } = 3;

    /// <summary>The n-gram MLP's hidden width.</summary>
    public int NgramHidden { get; init; } = 100;

    /// <summary>The n-gram MLP's activation.</summary>
    public Activation NgramActivation { get; init; } = Activation.Relu;

    /// <summary>n-gram training windows per sequence; null for all.</summary>
    public int? NgramWindows { get; init; } = Models.Data.NgramWindows.NotebookWindowsPerSequence;

    /// <summary>LSTM hidden size.</summary>
    public int LstmHidden { get; init; } = 256;

    /// <summary>LSTM layers.</summary>
    public int LstmLayers { get; init; } = 2;

    /// <summary>Dropout between LSTM layers.</summary>
    public float LstmDropout { get; init; } = 0.5f;

    /// <summary>Epochs, for each model.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>The optimizer: adam, adamw, sgd or rmsprop.</summary>
    public string Optimizer { get; init; } = "adam";

    /// <summary>The optimizer's learning rate: Adam's and AdamW's step size, SGD's factor of the gradient, RMSprop's of the scaled gradient.</summary>
    public float LearningRate { get; init; } = 2e-3f;

    /// <summary>Weight decay: an L2 term added to the gradient for adam, sgd and rmsprop (torch's weight_decay), decoupled for adamw; 0 for every optimizer by default.</summary>
    public float WeightDecay { get; init; }

    /// <summary>SGD's and RMSprop's momentum (0: none); 0 for adam and adamw, which have none.</summary>
    public float Momentum { get; init; }

    /// <summary>RMSprop's smoothing constant α of the mean square; <see cref="DefaultAlpha"/> for the optimizers that have none.</summary>
    public float Alpha { get; init; } = DefaultAlpha;

    /// <summary>RMSprop's centered form (torch's centered=True): the mean square less the mean gradient's square; false for the optimizers that have none.</summary>
    public bool Centered { get; init; }

    /// <summary>Adam's and AdamW's amsgrad form (torch's amsgrad=True): the step divides by the running maximum of the second moment; false for the optimizers that have none.</summary>
    public bool Amsgrad { get; init; }

    /// <summary>Examples per batch (sequences for the LSTM, windows for the n-gram model).</summary>
    public int Batch { get; init; } = 100;

    /// <summary>Seeds the initialisation, the shuffles, dropout and the samples.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Share of sequences held out for validation.</summary>
    public double ValidationFraction { get; init; } = Models.Data.ValidationSplit.DefaultFraction;

    /// <summary>Stop each epoch after this many batches; null for whole epochs.</summary>
    public int? MaxBatches { get; init; }

    /// <summary>Use only the corpus's first sequences; null for all.</summary>
    public int? MaxSequences { get; init; }

    /// <summary>Clip the gradient norm; null for none (the notebook clips nothing).</summary>
    public double? ClipNorm { get; init; }

    /// <summary>The data path given with --data, if any.</summary>
    public string? Data { get; init; }

    /// <summary>Characters generated after each epoch.</summary>
    public int SampleLength { get; init; } = 100;

    /// <summary>Temperature of the per-epoch samples.</summary>
    public float SampleTemperature { get; init; } = 0.5f;

    /// <summary>The text file or folder given with --text (full path); null for 20 Newsgroups.</summary>
    public string? Text { get; init; }

    /// <summary>Whether the text is lowercased (--text only).</summary>
    public bool Lowercase { get; init; }

    /// <summary>Steps (predicted characters) per training sequence of a text: the window is this + 1 characters.</summary>
    public int SeqLen { get; init; } = DefaultSeqLen;

    /// <summary>Stateful batching of a text: parallel streams, the recurrent state carried from batch to batch.</summary>
    public bool Stateful { get; init; }

    /// <summary>The recurrent model's cell: lstm, gru or rnn (nn.RNN, tanh).</summary>
    public string Cell { get; init; } = "lstm";

    /// <summary>The learning-rate schedule: none, char-rnn, step, exponential, cosine, warmup-cosine or plateau.</summary>
    public string Schedule { get; init; } = "none";

    /// <summary>The schedule's factor: char-rnn's decay rate, StepLR's and ExponentialLR's gamma, ReduceLROnPlateau's factor.</summary>
    public double LrDecay { get; init; } = 1;

    /// <summary>char-rnn: the epoch after which the learning rate decays every epoch.</summary>
    public int LrDecayAfter { get; init; } = DefaultLrDecayAfter;

    /// <summary>StepLR: epochs between decays.</summary>
    public int LrStepSize { get; init; } = DefaultLrStepSize;

    /// <summary>warmup-cosine: batches of linear warm-up (the cosine then runs to the last batch of the last epoch).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>plateau: epochs without improvement tolerated.</summary>
    public int LrPatience { get; init; } = DefaultLrPatience;

    /// <summary>Save the checkpoint every this many batches as well as after each epoch; null for epochs only.</summary>
    public int? CheckpointEvery { get; init; }

    /// <summary>
    /// The recurrent model checkpoint whose weights and vocabulary the run starts from (--init-from, full path), with a
    /// fresh optimizer and schedule; null to start from the seed's initialisation.
    /// </summary>
    public string? InitFrom { get; init; }

    /// <summary>--seq-len's default, char-rnn's and the 20 Newsgroups sequences' length.</summary>
    public const int DefaultSeqLen = 100;

    /// <summary>--validation-fraction's default for a text: char-rnn's.</summary>
    public const double DefaultTextValidationFraction = 0.05;

    /// <summary>--alpha's default: torch's RMSprop alpha (char-rnn's decay_rate is 0.95).</summary>
    public const float DefaultAlpha = 0.99f;

    /// <summary>--lr-decay-after's default: char-rnn's learning_rate_decay_after.</summary>
    public const int DefaultLrDecayAfter = 10;

    /// <summary>--lr-step-size's default.</summary>
    public const int DefaultLrStepSize = 10;

    /// <summary>--lr-patience's default: ReduceLROnPlateau's.</summary>
    public const int DefaultLrPatience = 10;

    /// <summary>The values --model accepts.</summary>
    public static readonly string[] ModelNames = ["ngram", "lstm", "both"];

    /// <summary>The values --preset accepts.</summary>
    public static readonly string[] Presets = ["default", "notebook"];

    /// <summary>The values --ngram-activation accepts, as config.json writes <see cref="NgramActivation"/>.</summary>
    public static readonly string[] Activations = ["relu", "tanh", "sigmoid", "gelu", "silu", "leaky_relu"];

    /// <summary>The name config.json and --ngram-activation give <paramref name="activation"/>: its enum name in snake case.</summary>
    public static string ActivationName(Activation activation) => Json.PropertyNamingPolicy!.ConvertName(activation.ToString());

    /// <summary>The activation named <paramref name="name"/>, one of <see cref="Activations"/>.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Activations"/>.</exception>
    public static Activation ActivationNamed(string name) => Activations.Contains(name)
        ? Enum.GetValues<Activation>().Single(a => ActivationName(a) == name)
        : throw new ArgumentException($"Unknown n-gram activation '{name}'; use one of {string.Join(", ", Activations)}.");

    /// <summary>The values --optimizer accepts.</summary>
    public static readonly string[] Optimizers = ["adam", "adamw", "sgd", "rmsprop"];

    /// <summary>The values --cell accepts.</summary>
    public static readonly string[] Cells = ["lstm", "gru", "rnn"];

    /// <summary>The schedules --schedule accepts.</summary>
    public static readonly string[] Schedules = ["none", "char-rnn", "step", "exponential", "cosine", "warmup-cosine", "plateau"];

    /// <summary>The schedules whose factor is --lr-decay.</summary>
    public static readonly string[] DecayingSchedules = ["char-rnn", "step", "exponential", "plateau"];

    /// <summary>--lr-decay's default for <paramref name="schedule"/>: char-rnn's 0.97, PyTorch's 0.1 for StepLR and ReduceLROnPlateau.</summary>
    public static double DefaultLrDecay(string schedule) => schedule switch
    {
        "step" or "plateau" => 0.1,
        "none" => 1,
        _ => 0.97,
    };

    /// <summary>The recurrent model's family, from <see cref="Cell"/>.</summary>
    [JsonIgnore]
    public Models.Modeling.ModelKind RecurrentKind => RunFolder.RecurrentKindOf(Cell);

    /// <summary>Which models the run trains, n-gram first (it is quick and gives the baseline).</summary>
    [JsonIgnore]
    public IReadOnlyList<Models.Modeling.ModelKind> Kinds => Model switch
    {
        "ngram" => [Models.Modeling.ModelKind.Ngram],
        "lstm" => [RecurrentKind],
        _ => [Models.Modeling.ModelKind.Ngram, RecurrentKind],
    };

    /// <summary>The defaults of the README's main command: the notebook's models for 8 epochs, about 10 minutes on a 2-core CPU.</summary>
    public static TrainSettings Default { get; } = new()
    {
        Preset = "default",
        LstmHidden = 256,
        LstmLayers = 2,
        LstmDropout = 0.5f,
        Epochs = 8,
    };

    /// <summary>The notebook's scale: n=3, hidden 100 relu; LSTM 2×256, dropout 0.5, lr 2e-3, batch 100, 10 epochs.</summary>
    public static TrainSettings Notebook { get; } = new()
    {
        Preset = "notebook",
        N = 3,
        NgramHidden = 100,
        NgramActivation = Activation.Relu,
        LstmHidden = 256,
        LstmLayers = 2,
        LstmDropout = 0.5f,
        LearningRate = 2e-3f,
        Batch = 100,
        Epochs = 10,
    };

    /// <summary>The preset named <paramref name="name"/>.</summary>
    public static TrainSettings FromPreset(string name) => name switch
    {
        "notebook" => Notebook,
        "default" => Default,
        _ => throw new ArgumentException($"Unknown preset '{name}'; use default or notebook."),
    };
}
