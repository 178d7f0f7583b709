using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Onnx;

/// <summary>
/// Exports the char models (LSTM, GRU and n-gram MLP) to ONNX (opset <see cref="Opset"/>), with their vocabularies in
/// the model's metadata_props under the checkpoint's keys: <c>tensorlet.spec</c> (the spec's JSON),
/// <c>tensorlet.vocabulary</c> (the characters in id order, as <see cref="CharVocabulary.Serialize"/>) and, for
/// the n-gram model, <c>tensorlet.ngram_vocabulary</c> (as <see cref="NgramVocabulary.Serialize"/>).
/// <para>
/// The LSTM model takes <c>input</c> int64 [T, B] (character ids, time-major), <c>h0</c> and <c>c0</c> float
/// [L, B, H], and gives <c>logits</c> [T, B, V], <c>hn</c> and <c>cn</c> [L, B, H]: feed hn and cn back as h0 and
/// c0 to go on where a call stopped (ONNX Runtime keeps no state). The GRU model is the same without c0 and cn. The
/// n-gram model takes <c>input</c> int64 [N] (n-gram ids) and gives <c>logits</c> [N, V].
/// </para>
/// </summary>
public static class CharModelExporter
{
    /// <summary>The ONNX opset the exported models use.</summary>
    public const int Opset = OnnxGraphBuilder.Opset;

    /// <summary>The metadata key of the spec's JSON.</summary>
    public const string SpecKey = "tensorlet.spec";

    /// <summary>The metadata key of the character vocabulary.</summary>
    public const string VocabularyKey = "tensorlet.vocabulary";

    /// <summary>The metadata key of the n-gram vocabulary.</summary>
    public const string NgramVocabularyKey = "tensorlet.ngram_vocabulary";

    /// <summary>Exports a trained model, its parameters read from the device.</summary>
    /// <exception cref="OnnxExportException">The model is not one of the char models, or its parameters do not fit its spec.</exception>
    public static byte[] Export(ICharModel model, CharVocabulary vocabulary, NgramVocabulary? ngrams = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var spec = model switch
        {
            LstmCharModel lstm => CharModelSpec.Lstm(lstm.CharVocabularySize, lstm.HiddenSize, lstm.NumLayers, lstm.Dropout),
            GruCharModel gru => CharModelSpec.Gru(gru.CharVocabularySize, gru.HiddenSize, gru.NumLayers, gru.Dropout),
            ElmanCharModel rnn => CharModelSpec.Rnn(rnn.CharVocabularySize, rnn.HiddenSize, rnn.NumLayers, rnn.Dropout),
            NgramMlp mlp => CharModelSpec.Ngram(
                ngrams?.NgramOrder ?? throw new OnnxExportException("The n-gram model needs its n-gram vocabulary; none was given."), mlp.NgramVocabularySize, mlp.CharVocabularySize, mlp.HiddenSize, mlp.Activation),
            _ => throw new OnnxExportException(
                $"The model {model.GetType().FullName} ({model.Kind}) has no ONNX export: only {nameof(LstmCharModel)}, {nameof(GruCharModel)}, {nameof(ElmanCharModel)} and {nameof(NgramMlp)} do."),
        };
        return Export(spec, model.Parameters.ToHost(), vocabulary, ngrams);
    }

    /// <summary>Exports a checkpoint's model, loading its weights on the CPU.</summary>
    public static byte[] Export(ModelCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        using var device = Device.Create("cpu");
        using var model = checkpoint.CreateModel(device);
        return Export(checkpoint.Spec, model.Parameters.ToHost(), checkpoint.Vocabulary, checkpoint.Ngrams);
    }

    /// <summary>Exports the model that <paramref name="spec"/> describes from its parameters by state_dict name.</summary>
    /// <exception cref="OnnxExportException">A parameter is missing or has the wrong shape, or the vocabularies do not fit the spec.</exception>
    public static byte[] Export(CharModelSpec spec, IReadOnlyDictionary<string, (int[] Shape, float[] Data)> stateDict, CharVocabulary vocabulary, NgramVocabulary? ngrams = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(stateDict);
        ArgumentNullException.ThrowIfNull(vocabulary);
        try
        {
            spec.Validate();
        }
        catch (ArgumentException e)
        {
            throw new OnnxExportException($"The model spec cannot be exported: {e.Message}", e);
        }

        if (vocabulary.Count != spec.CharVocabularySize)
        {
            throw new OnnxExportException($"The vocabulary has {vocabulary.Count} characters but the model {spec.CharVocabularySize}.");
        }

        CheckWeights(spec, stateDict);

        var metadata = new Dictionary<string, string>
        {
            [SpecKey] = spec.ToJson(),
            [VocabularyKey] = vocabulary.Serialize(),
        };
        if (spec.Kind == ModelKind.Lstm)
        {
            var lstm = new OnnxGraphBuilder(stateDict, "lstm_char_predict");
            BuildRecurrent(lstm, spec);
            return lstm.ToModelBytes(metadata, "Tensorlet LSTM char model. Inputs: input int64 [T, B] (character ids, time-major), h0 and c0 float [L, B, H]. Outputs: logits [T, B, V], hn and cn [L, B, H].");
        }

        if (spec.Kind == ModelKind.Gru)
        {
            var gru = new OnnxGraphBuilder(stateDict, "gru_char_predict");
            BuildRecurrent(gru, spec);
            return gru.ToModelBytes(metadata, "Tensorlet GRU char model. Inputs: input int64 [T, B] (character ids, time-major), h0 float [L, B, H]. Outputs: logits [T, B, V], hn [L, B, H].");
        }

        if (spec.Kind == ModelKind.Rnn)
        {
            var rnn = new OnnxGraphBuilder(stateDict, "rnn_char_predict");
            BuildRecurrent(rnn, spec);
            return rnn.ToModelBytes(metadata, "Tensorlet RNN (tanh) char model. Inputs: input int64 [T, B] (character ids, time-major), h0 float [L, B, H]. Outputs: logits [T, B, V], hn [L, B, H].");
        }

        if (ngrams is null || ngrams.Count != spec.NgramVocabularySize || ngrams.NgramOrder != spec.NgramOrder)
        {
            throw new OnnxExportException(
                $"The n-gram model needs its n-gram vocabulary of {spec.NgramVocabularySize} {spec.NgramOrder}-grams" +
                (ngrams is null ? "; none was given." : $"; the one given has {ngrams.Count} {ngrams.NgramOrder}-grams."));
        }

        metadata[NgramVocabularyKey] = ngrams.Serialize();
        var builder = new OnnxGraphBuilder(stateDict, "ngram_mlp");
        BuildNgram(builder, spec);
        return builder.ToModelBytes(metadata, "Tensorlet n-gram MLP. Input: input int64 [N] (n-gram ids). Output: logits [N, V].");
    }

    /// <summary>Writes <paramref name="model"/> (from an Export overload) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, byte[] model)
    {
        ArgumentNullException.ThrowIfNull(model);
        AtomicFile.Write(path, stream => stream.Write(model));
    }

    // The graph takes its sizes from the spec and its weights from the state_dict, so the two must agree: every
    // parameter of the spec's model, with its shape and number of values, and nothing else (a layer too many would be
    // left out of the graph without a word).
    private static void CheckWeights(CharModelSpec spec, IReadOnlyDictionary<string, (int[] Shape, float[] Data)> stateDict)
    {
        var expected = spec.ParameterShapes();
        foreach (var (name, shape) in expected)
        {
            if (!stateDict.TryGetValue(name, out var t))
            {
                throw new OnnxExportException($"The state_dict has no '{name}' {Shape(shape)}, which the spec's {spec.Kind} model has.");
            }

            if (t.Shape is null || t.Data is null || !t.Shape.SequenceEqual(shape) || t.Data.Length != shape.Aggregate(1L, (n, d) => n * d))
            {
                throw new OnnxExportException(
                    $"The state_dict's '{name}' is {Shape(t.Shape ?? [])} with {t.Data?.Length ?? 0} values; the spec's {spec.Kind} model has it {Shape(shape)}.");
            }
        }

        if (stateDict.Keys.Where(k => !expected.Any(p => p.Name == k)).ToList() is { Count: > 0 } extra)
        {
            throw new OnnxExportException($"The state_dict has {string.Join(", ", extra)}, which the spec's {spec.Kind} model does not have.");
        }
    }

    private static string Shape(IEnumerable<int> shape) => $"[{string.Join(", ", shape)}]";

    // lstm_char_predict, gru_char_predict and rnn_char_predict: one-hot characters → nn.LSTM, nn.GRU or nn.RNN (tanh) →
    // output (Linear) on every step.
    private static void BuildRecurrent(OnnxGraphBuilder builder, CharModelSpec spec)
    {
        int layers = spec.NumLayers, hidden = spec.HiddenSize, vocabulary = spec.CharVocabularySize;
        bool lstm = spec.Kind == ModelKind.Lstm;
        var input = builder.Input("input", OnnxElementType.Int64, "T", "B");
        var h0 = builder.Input("h0", OnnxElementType.Float, layers, "B", hidden);
        var c0 = lstm ? builder.Input("c0", OnnxElementType.Float, layers, "B", hidden) : null;
        var x = builder.OneHot(input, vocabulary);
        var rnn = spec.Kind switch
        {
            ModelKind.Gru => builder.Gru("gru", layers, x, h0),
            ModelKind.Rnn => builder.Rnn("rnn", layers, x, h0, relu: false),
            _ => builder.Lstm("lstm", layers, x, h0, c0!),
        };
        var logits = builder.Linear("output", rnn.Output);
        builder.Output(logits, "logits", OnnxElementType.Float, "T", "B", vocabulary);
        builder.Output(rnn.FinalHidden, "hn", OnnxElementType.Float, layers, "B", hidden);
        if (lstm)
        {
            builder.Output(rnn.FinalCell!, "cn", OnnxElementType.Float, layers, "B", hidden);
        }
    }

    // ngram_mlp: L1 (Linear on the one-hot n-gram, as a gather) → activation → L2.
    private static void BuildNgram(OnnxGraphBuilder builder, CharModelSpec spec)
    {
        var input = builder.Input("input", OnnxElementType.Int64, "N");
        var hidden = builder.OneHotLinear("L1", input);
        var activated = builder.Activation(spec.Activation, hidden, "act");
        var logits = builder.Linear("L2", activated);
        builder.Output(logits, "logits", OnnxElementType.Float, "N", spec.CharVocabularySize);
    }
}
