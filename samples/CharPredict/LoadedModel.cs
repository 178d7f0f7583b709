using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Nn;

namespace Tensorlet.Samples.CharPredict;

/// <summary>A model and its vocabularies, from a checkpoint or from training: what sample, eval and compare use.</summary>
internal sealed class LoadedModel(ICharModel model, CharVocabulary characters, NgramVocabulary? ngrams) : IDisposable
{
    /// <summary>The model.</summary>
    public ICharModel Model { get; } = model;

    /// <summary>Its characters.</summary>
    public CharVocabulary Characters { get; } = characters;

    /// <summary>Its n-grams (n-gram model only).</summary>
    public NgramVocabulary? Ngrams { get; } = ngrams;

    /// <summary>The model family.</summary>
    public ModelKind Kind => Model.Kind;

    /// <summary>Reads a checkpoint and builds its model on <paramref name="device"/>.</summary>
    /// <exception cref="CheckpointException">The file is missing, truncated or not a Tensorlet model.</exception>
    public static LoadedModel Load(string path, Device device, ModelKind? expectedKind = null)
    {
        var checkpoint = ModelCheckpoint.Read(path, expectedKind);
        return new LoadedModel(checkpoint.CreateModel(device), checkpoint.Vocabulary, checkpoint.Ngrams);
    }

    /// <summary>
    /// <paramref name="length"/> new characters after <paramref name="start"/>.
    /// </summary>
    /// <exception cref="UnknownCharacterException">The start text has characters outside the vocabulary.</exception>
    /// <exception cref="ArgumentException">The start text is too short for the model.</exception>
    public string Generate(string start, int length, float temperature, int seed)
        => string.Concat(Stream(start, temperature, seed).Take(length));

    /// <summary>
    /// New characters after <paramref name="start"/>, made one at a time as they are asked for (without end). Each is one
    /// character, a Unicode scalar value: an emoji is one string of two UTF-16 code units.
    /// </summary>
    /// <exception cref="UnknownCharacterException">The start text has characters outside the vocabulary.</exception>
    /// <exception cref="ArgumentException">The start text is too short for the model.</exception>
    public IEnumerable<string> Stream(string start, float temperature, int seed, int topK = 0)
    {
        if (Model is NgramMlp ngram)
        {
            return NgramGenerator.Stream(ngram, Characters, Ngrams!, start, temperature, seed, topK).Select(c => c.ToString());
        }

        var ids = Characters.Encode(start);
        return SequenceGenerator.Stream((Module)Model, ids, temperature, seed, topK).Select(Characters.Decode);
    }

    /// <summary>
    /// The log-probability (nats) of each predicted character of <paramref name="text"/>: for the LSTM, text[1..]
    /// from what precedes it; for the n-gram model, text[i+n] from text[i..i+n). Positions count characters (Unicode
    /// scalar values). Positions whose n-gram the model does not know are left out.
    /// </summary>
    public (int[] Positions, double[] LogProbabilities, int Skipped) Score(string text)
    {
        var ids = Characters.Encode(text);
        var device = Model.Device;
        var positions = new List<int>();
        var inputs = new List<int>();
        var targets = new List<int>();
        int skipped = 0;
        if (Ngrams is { } ngrams)
        {
            int n = ngrams.NgramOrder;
            if (ids.Length <= n)
            {
                throw new ArgumentException($"The n-gram model (n = {n}) needs a text of at least {n + 1} characters to predict one; \"{text}\" has {ids.Length}.");
            }

            var windows = NgramDataset.Create([text], Characters, ngrams, windowsPerSequence: null);
            inputs.AddRange(windows.Inputs);
            targets.AddRange(windows.Targets);
            positions.AddRange(windows.Positions);
            skipped = windows.SkippedWindows;
            if (inputs.Count == 0)
            {
                throw new ArgumentException($"None of the {ids.Length - n} {n}-grams of the text appears in the model's training data, so it predicts nothing.");
            }
        }
        else
        {
            // ids has one entry per character (an emoji is one), where text.Length counts UTF-16 code units.
            if (ids.Length < 2)
            {
                throw new ArgumentException($"The recurrent model needs a text of at least 2 characters to predict one; \"{text}\" has {ids.Length}.");
            }

            for (int i = 1; i < ids.Length; i++)
            {
                inputs.Add(ids[i - 1]);
                targets.Add(ids[i]);
                positions.Add(i);
            }
        }

        // One sequence, time-major for the LSTM (batch 1), or one window per row for the n-gram model.
        int batch = Ngrams is null ? 1 : inputs.Count;
        using var inputTensor = device.IndexFromArray(inputs.ToArray(), inputs.Count);
        using var targetTensor = device.IndexFromArray(targets.ToArray(), targets.Count);
        var losses = Model.ForwardLoss(inputTensor, targetTensor, batch, training: false, step: 0).ToArray();
        return ([.. positions], [.. losses.Select(l => -(double)l)], skipped);
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
