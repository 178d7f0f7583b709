using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tensorlet.Kernels;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// Everything needed to rebuild a model: its family and sizes. Saved as JSON in every checkpoint.
/// </summary>
/// <param name="Kind">The model family.</param>
/// <param name="CharVocabularySize">Output characters: the size of the character vocabulary.</param>
/// <param name="HiddenSize">LSTM H, or the n-gram MLP's hidden width.</param>
/// <param name="NumLayers">Stacked LSTM layers, nn.LSTM's num_layers (1 for the n-gram MLP).</param>
/// <param name="Dropout">Dropout between LSTM layers.</param>
/// <param name="NgramOrder">The n of the n-grams: characters per n-gram (0 for the LSTM).</param>
/// <param name="NgramVocabularySize">Distinct n-grams (0 for the LSTM).</param>
/// <param name="Activation">The n-gram MLP's activation.</param>
public sealed record CharModelSpec(
    ModelKind Kind,
    int CharVocabularySize,
    int HiddenSize,
    int NumLayers = 1,
    float Dropout = 0f,
    int NgramOrder = 0,
    int NgramVocabularySize = 0,
    Activation Activation = Activation.Relu)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    // JSON keys renamed before 0.1.0, as (current, older): checkpoints written under the older name still load.
    private static readonly (string Current, string Older)[] RenamedKeys =
    [
        ("char_vocabulary_size", "vocabulary_size"),
        ("num_layers", "layers"),
        ("ngram_order", "n"),
    ];

    /// <summary>The spec of the notebook's LSTM.</summary>
    public static CharModelSpec Lstm(int charVocabularySize, int hiddenSize, int numLayers, float dropout)
        => new(ModelKind.Lstm, charVocabularySize, hiddenSize, numLayers, dropout);

    /// <summary>The spec of the notebook's recurrent model with nn.GRU in nn.LSTM's place.</summary>
    public static CharModelSpec Gru(int charVocabularySize, int hiddenSize, int numLayers, float dropout)
        => new(ModelKind.Gru, charVocabularySize, hiddenSize, numLayers, dropout);

    /// <summary>The spec of the notebook's recurrent model with nn.RNN (tanh) in nn.LSTM's place.</summary>
    public static CharModelSpec Rnn(int charVocabularySize, int hiddenSize, int numLayers, float dropout)
        => new(ModelKind.Rnn, charVocabularySize, hiddenSize, numLayers, dropout);

    /// <summary>The spec of the notebook's n-gram MLP.</summary>
    public static CharModelSpec Ngram(int ngramOrder, int ngramVocabularySize, int charVocabularySize, int hiddenSize, Activation activation)
        => new(ModelKind.Ngram, charVocabularySize, hiddenSize, 1, 0f, ngramOrder, ngramVocabularySize, activation);

    /// <summary>
    /// Reads a spec written by <see cref="ToJson"/>, also under the older names of renamed keys (a key given under
    /// both names must have one value).
    /// </summary>
    /// <exception cref="JsonException">The text is not a JSON object, or a renamed key is missing or given two values.</exception>
    public static CharModelSpec FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var node = JsonNode.Parse(json) ?? throw new JsonException("The model spec is empty.");
        if (node is not JsonObject fields)
        {
            throw new JsonException($"The model spec must be a JSON object; got {node.GetValueKind()}: {node.ToJsonString()}.");
        }

        foreach (var (current, older) in RenamedKeys)
        {
            UpgradeKey(fields, current, older);
        }

        return fields.Deserialize<CharModelSpec>(Json) ?? throw new JsonException("The model spec is empty.");
    }

    /// <summary>The spec as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The largest hidden size (LSTM H or the n-gram MLP's width) a spec may give.</summary>
    public const int MaxHiddenSize = 16_384;

    /// <summary>The most stacked LSTM layers a spec may give.</summary>
    public const int MaxLayers = 64;

    /// <summary>The largest character vocabulary: one entry per UTF-16 code unit.</summary>
    public const int MaxCharVocabularySize = 65_536;

    /// <summary>The longest n-gram a spec may give.</summary>
    public const int MaxNgramOrder = 1_024;

    /// <summary>
    /// The most parameters a model may have: 2^28, so that every element count and byte offset within the parameters,
    /// their gradients and each buffer of optimizer state (at most 1 GiB each) fits in an <see cref="int"/>.
    /// </summary>
    public const long MaxParameters = 1L << 28;

    /// <summary>The number of parameters the model has (computed in 64 bits, so a spec with absurd sizes cannot overflow it).</summary>
    public long ParameterCount() => ParameterShapes().Sum(p => p.Shape.Aggregate(1L, (n, d) => n * d));

    /// <summary>
    /// Every parameter of the model by state_dict name and shape, in state_dict order, from the spec alone (nothing is
    /// allocated): what <see cref="Create"/> makes, which a test holds it to.
    /// </summary>
    internal IReadOnlyList<(string Name, int[] Shape)> ParameterShapes()
    {
        int v = CharVocabularySize, h = HiddenSize;
        if (Kind == ModelKind.Ngram)
        {
            // L1 [H, NV] and its bias; L2 [V, H] and its bias.
            return [("L1.weight", [h, NgramVocabularySize]), ("L1.bias", [h]), ("L2.weight", [v, h]), ("L2.bias", [v])];
        }

        // Per layer weight_ih [GH, V] (layer 0, one-hot input) or [GH, H], weight_hh [GH, H] and two GH biases; the head
        // [V, H] and its bias. G is 4 gates for the LSTM, 3 for the GRU, 1 for the RNN. Sizes too large for an int
        // saturate, so a spec over the limits still counts as over them.
        var (cell, gateCount) = Kind switch
        {
            ModelKind.Gru => ("gru", 3L),
            ModelKind.Rnn => ("rnn", 1L),
            _ => ("lstm", 4L),
        };
        int gates = (int)Math.Min(int.MaxValue, gateCount * h);
        var shapes = new List<(string, int[])>();
        for (int k = 0; k < NumLayers; k++)
        {
            shapes.Add(($"{cell}.weight_ih_l{k}", [gates, k == 0 ? v : h]));
            shapes.Add(($"{cell}.weight_hh_l{k}", [gates, h]));
            shapes.Add(($"{cell}.bias_ih_l{k}", [gates]));
            shapes.Add(($"{cell}.bias_hh_l{k}", [gates]));
        }

        shapes.Add(("output.weight", [v, h]));
        shapes.Add(("output.bias", [v]));
        return shapes;
    }

    /// <summary>
    /// Checks the sizes against the limits above before anything is allocated, throwing an <see cref="ArgumentException"/>
    /// that names the first bad one.
    /// </summary>
    public void Validate()
    {
        static void InRange(int value, int max, string name)
        {
            if (value <= 0 || value > max)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} must be positive and at most {max}; got {value}."));
            }
        }

        InRange(CharVocabularySize, MaxCharVocabularySize, "The character vocabulary size");
        InRange(HiddenSize, MaxHiddenSize, "The hidden size");
        InRange(NumLayers, Kind == ModelKind.Ngram ? 1 : MaxLayers, "The number of layers");
        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Dropout must be in [0, 1); got {Dropout}."));
        }

        if (Kind == ModelKind.Ngram)
        {
            InRange(NgramOrder, MaxNgramOrder, "The n-gram order");
            InRange(NgramVocabularySize, int.MaxValue, "The n-gram vocabulary size");
        }

        if (ParameterCount() is var count and > MaxParameters)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture, $"The model would have {count:N0} parameters; at most {MaxParameters:N0} (2^28) fit the limits of one training run."));
        }
    }

    /// <summary>Builds the model on <paramref name="device"/> with PyTorch's default initialisation from <paramref name="seed"/>.</summary>
    public ICharModel Create(Device device, int seed)
    {
        Validate();
        return Kind switch
        {
            ModelKind.Lstm => new LstmCharModel(device, CharVocabularySize, HiddenSize, NumLayers, Dropout, seed),
            ModelKind.Gru => new GruCharModel(device, CharVocabularySize, HiddenSize, NumLayers, Dropout, seed),
            ModelKind.Rnn => new ElmanCharModel(device, CharVocabularySize, HiddenSize, NumLayers, Dropout, seed),
            _ => new NgramMlp(device, NgramVocabularySize, CharVocabularySize, HiddenSize, Activation, seed),
        };
    }

    /// <summary>Moves <paramref name="older"/>'s value to <paramref name="current"/>, checking that the two names agree.</summary>
    private static void UpgradeKey(JsonObject fields, string current, string older)
    {
        bool hasCurrent = fields.TryGetPropertyValue(current, out var value);
        if (!fields.TryGetPropertyValue(older, out var olderValue))
        {
            if (!hasCurrent)
            {
                throw new JsonException($"The model spec has no '{current}' (nor '{older}', its name in older checkpoints).");
            }

            return;
        }

        if (hasCurrent && !JsonNode.DeepEquals(value, olderValue))
        {
            throw new JsonException(
                $"The model spec gives '{current}' as {Describe(value)} but '{older}', its name in older checkpoints, as {Describe(olderValue)}; they must agree.");
        }

        fields.Remove(older);
        if (!hasCurrent)
        {
            fields[current] = olderValue;
        }
    }

    private static string Describe(JsonNode? value) => value?.ToJsonString() ?? "null";
}
