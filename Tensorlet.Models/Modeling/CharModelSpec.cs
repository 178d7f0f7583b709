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

    /// <summary>Checks the sizes, throwing an <see cref="ArgumentException"/> that names the first bad one.</summary>
    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value <= 0)
            {
                throw new ArgumentException($"{name} must be positive; got {value}.");
            }
        }

        Positive(CharVocabularySize, "The character vocabulary size");
        Positive(HiddenSize, "The hidden size");
        Positive(NumLayers, "The number of layers");
        if (!(Dropout >= 0 && Dropout < 1))
        {
            throw new ArgumentException($"Dropout must be in [0, 1); got {Dropout}.");
        }

        if (Kind == ModelKind.Ngram)
        {
            Positive(NgramOrder, "The n-gram order");
            Positive(NgramVocabularySize, "The n-gram vocabulary size");
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
