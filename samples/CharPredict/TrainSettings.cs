using System.Text.Json;
using System.Text.Json.Serialization;
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

    /// <summary>Adam's learning rate.</summary>
    public float LearningRate { get; init; } = 2e-3f;

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

    /// <summary>Which models the run trains, n-gram first (it is quick and gives the baseline).</summary>
    [JsonIgnore]
    public IReadOnlyList<Models.Modeling.ModelKind> Kinds => Model switch
    {
        "ngram" => [Models.Modeling.ModelKind.Ngram],
        "lstm" => [Models.Modeling.ModelKind.Lstm],
        _ => [Models.Modeling.ModelKind.Ngram, Models.Modeling.ModelKind.Lstm],
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
