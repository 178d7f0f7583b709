using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Models.Training;
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
    /// scalar values). Positions whose n-gram the model does not know are left out. The text goes through the model in
    /// chunks (<see cref="Evaluator.ChunkSteps"/> steps, the recurrent state carried from one to the next, or
    /// <see cref="ChunkWindows"/> n-gram windows), so a whole file takes the device memory of one chunk and gives
    /// the log-probabilities one pass would.
    /// </summary>
    /// <exception cref="UnknownCharacterException">The text has characters outside the vocabulary.</exception>
    /// <exception cref="ArgumentException">The text is too short for the model, or none of its n-grams is known.</exception>
    public (int[] Positions, double[] LogProbabilities, int Skipped) Score(string text)
    {
        var ids = Characters.Encode(text);
        if (Ngrams is { } ngrams)
        {
            int n = ngrams.NgramOrder;
            if (ids.Length <= n)
            {
                throw new ArgumentException($"The n-gram model (n = {n}) needs a text of at least {n + 1} characters to predict one; \"{Shorten(text)}\" has {ids.Length}.");
            }

            var windows = NgramDataset.Create([text], Characters, ngrams, windowsPerSequence: null);
            if (windows.Count == 0)
            {
                throw new ArgumentException($"None of the {ids.Length - n} {n}-grams of the text appears in the model's training data, so it predicts nothing.");
            }

            var ngramLosses = new double[windows.Count];
            for (int first = 0; first < windows.Count; first += ChunkWindows)
            {
                int count = Math.Min(ChunkWindows, windows.Count - first);
                ScoreChunk(windows.Inputs.AsSpan(first, count), windows.Targets.AsSpan(first, count), count, ngramLosses.AsSpan(first));
            }

            return (windows.Positions, ngramLosses, windows.SkippedWindows);
        }

        // ids has one entry per character (an emoji is one), where text.Length counts UTF-16 code units.
        if (ids.Length < 2)
        {
            throw new ArgumentException($"The recurrent model needs a text of at least 2 characters to predict one; \"{Shorten(text)}\" has {ids.Length}.");
        }

        // Each character from the ones before it, in the library's chunks with the state carried.
        var losses = Evaluator.LogProbabilities((RnnCharModel)Model, ids);
        return ([.. Enumerable.Range(1, losses.Length)], losses, 0);
    }

    /// <summary>N-gram windows per forward pass of <see cref="Score"/>.</summary>
    internal const int ChunkWindows = 8192;

    // One forward pass: the negated per-row losses (log-probabilities) into logProbabilities.
    private void ScoreChunk(ReadOnlySpan<int> inputs, ReadOnlySpan<int> targets, int batch, Span<double> logProbabilities)
    {
        var device = Model.Device;
        using var inputTensor = device.IndexFromArray(inputs.ToArray(), inputs.Length);
        using var targetTensor = device.IndexFromArray(targets.ToArray(), targets.Length);
        var losses = Model.ForwardLoss(inputTensor, targetTensor, batch, training: false, step: 0).ToArray();
        for (int i = 0; i < losses.Length; i++)
        {
            logProbabilities[i] = -(double)losses[i];
        }
    }

    // A text quoted in a message: its first 40 characters.
    private static string Shorten(string text) => text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 40), "…");

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
