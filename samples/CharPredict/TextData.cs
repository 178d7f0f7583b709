using System.Globalization;
using System.Text;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// A text of the user's own (<c>train --text</c>): a UTF-8 file or a folder of <c>*.txt</c> files, read by the
/// library's <see cref="TextCorpus"/> as character ids (one byte per character for up to 256 characters). The last
/// <c>--validation-fraction</c> of it is held out, whole, as char-rnn does.
/// </summary>
internal sealed class TextData : ITrainingData
{
    private readonly TextCorpus corpus;
    private readonly CharIds train;
    private readonly CharIds validation;

    private TextData(TextCorpus corpus, double validationFraction)
    {
        this.corpus = corpus;
        (train, validation) = corpus.Split(validationFraction);
    }

    /// <inheritdoc/>
    public string Source { get; private init; } = "";

    /// <summary>
    /// The distinct characters of the text: <see cref="Vocabulary"/>'s count, unless the text was read in a model's
    /// vocabulary, which may hold characters the text lacks.
    /// </summary>
    public int DistinctCharacters { get; private init; }

    /// <summary>Whether <see cref="Vocabulary"/> is a model's (<c>--init-from</c>), not the text's own.</summary>
    public bool ModelVocabulary { get; private init; }

    /// <inheritdoc/>
    public CharVocabulary Vocabulary => corpus.Vocabulary;

    /// <inheritdoc/>
    public ChartSubject ChartSubject => ChartSubject.Text(Source);

    /// <summary>
    /// Reads the text, as ids of <paramref name="vocabulary"/> when given (a checkpoint's) or else of its own characters,
    /// and splits off its last <paramref name="validationFraction"/>.
    /// </summary>
    /// <exception cref="CorpusException">The path is missing, holds no text or characters outside the given vocabulary,
    /// or leaves no validation text.</exception>
    /// <exception cref="InvalidTextException">A file is not UTF-8 (the message names it and the byte offset).</exception>
    public static TextData Load(string path, bool lowercase, double validationFraction, CharVocabulary? vocabulary = null)
    {
        var corpus = vocabulary is null ? TextCorpus.Load(path, lowercase) : TextCorpus.Load(path, vocabulary, lowercase);
        var data = new TextData(corpus, validationFraction)
        {
            Source = path,
            DistinctCharacters = vocabulary is null ? corpus.Vocabulary.Count : DistinctIds(corpus.Ids),
            ModelVocabulary = vocabulary is not null,
        };
        if (data.validation.Length < 2)
        {
            throw new CorpusException(path, string.Create(
                CultureInfo.InvariantCulture,
                $"{path} has {data.corpus.Length} characters; a validation fraction of {validationFraction} holds out {data.validation.Length}, and validation needs at least 2."));
        }

        return data;
    }

    /// <inheritdoc/>
    public ModelExamples RecurrentExamples(TrainSettings settings)
    {
        int length = settings.SeqLen;
        if (settings.Stateful)
        {
            var streams = new StreamBatchSource(train, settings.Batch, length);
            if (streams.Count == 0)
            {
                throw new ArgumentException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"--stateful cuts the {train.Length:N0} training characters into {settings.Batch} streams of {streams.StreamLength:N0}; each needs at least --seq-len + 2 = {length + 2}. Use a smaller --batch or --seq-len."));
            }

            // Validation is read as streams too, from zeros, as many as fit a whole chunk (at most the batch).
            int validationStreams = Math.Clamp((validation.Length - 1) / (length + 1), 1, settings.Batch);
            return new ModelExamples(null, streams, new StreamBatchSource(validation, validationStreams, Math.Min(length, validation.Length - 1)));
        }

        var windows = new TextWindowBatchSource(train, length);
        if (windows.Count == 0)
        {
            throw new ArgumentException(string.Create(
                CultureInfo.InvariantCulture,
                $"The {train.Length:N0} training characters give no window of --seq-len + 1 = {length + 1} characters. Use a smaller --seq-len."));
        }

        return new ModelExamples(null, windows, new TextWindowBatchSource(validation, Math.Min(length, validation.Length - 1)));
    }

    /// <inheritdoc/>
    public ModelExamples NgramExamples(TrainSettings settings)
    {
        int n = settings.N;
        string trainText = Vocabulary.Decode(train.ToArray());
        string validationText = Vocabulary.Decode(validation.ToArray());
        if (train.Length <= n || validation.Length <= n)
        {
            throw new ArgumentException($"The n-gram model (n = {n}) needs more than {n} characters in both the training and the validation text.");
        }

        // As on 20 Newsgroups, the n-grams of the whole text (training and held out), every window of each part, each
        // window's target at position n (it always has n characters before it).
        var ngrams = NgramVocabulary.FromSequences([trainText, validationText], n, windowsPerSequence: null);
        return new ModelExamples(ngrams, Windows(trainText, ngrams, n), Windows(validationText, ngrams, n));
    }

    /// <inheritdoc/>
    public string HeldOutStart(int needed) => Vocabulary.Decode(validation.Slice(0, Math.Min(needed, validation.Length)).ToArray());

    /// <inheritdoc/>
    public DataSummary Summarize(ModelExamples? ngram) => new(
        Source, null, null, null, null, null, Vocabulary.Serialize(), Vocabulary.Count, ngram?.Ngrams!.Count, ngram?.Train.Count, ngram?.Validation.Count,
        [.. corpus.Files], corpus.Length, train.Length, validation.Length);

    /// <inheritdoc/>
    public string Describe()
    {
        var text = new StringBuilder(string.Create(
            CultureInfo.InvariantCulture,
            $"Data: {corpus.Length:N0} characters in {corpus.Files.Count} file{(corpus.Files.Count == 1 ? "" : "s")} ({train.Length:N0} train, {validation.Length:N0} validation, the last), {DistinctCharacters} distinct"));
        if (ModelVocabulary)
        {
            text.Append(CultureInfo.InvariantCulture, $" (of the --init-from model's {Vocabulary.Count})");
        }

        if (corpus.Lowercase)
        {
            text.Append(", lowercased");
        }

        return text.ToString();
    }

    // The ids that occur in the text, counted a chunk at a time (a text may hold 2^31 - 1 characters).
    private static int DistinctIds(CharIds ids)
    {
        var seen = new bool[ids.VocabularySize];
        var chunk = new int[Math.Min(ids.Length, 1 << 16)];
        int distinct = 0;
        for (int start = 0; start < ids.Length;)
        {
            var part = chunk.AsSpan(0, Math.Min(chunk.Length, ids.Length - start));
            ids.CopyTo(start, part);
            start += part.Length;
            foreach (int id in part)
            {
                if (!seen[id])
                {
                    seen[id] = true;
                    distinct++;
                }
            }
        }

        return distinct;
    }

    private WindowBatchSource Windows(string text, NgramVocabulary ngrams, int n)
    {
        var set = NgramDataset.Create([text], Vocabulary, ngrams, windowsPerSequence: null);
        var positions = new int[set.Count];
        Array.Fill(positions, n);
        return new WindowBatchSource(set.Inputs, set.Targets, positions);
    }
}
