using System.Collections.Concurrent;
using System.Globalization;
using Spectre.Console;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The corpus as the app uses it: located (explicit path, TENSORLET_DATA, the cache, or a download), loaded,
/// optionally cut to its first sequences, with the character vocabulary and the train/validation split.
/// </summary>
internal sealed class CorpusData : ITrainingData
{
    // Parsing the archive takes seconds; one process (the tests) reads it many times.
    private static readonly ConcurrentDictionary<(string Path, DateTime Modified, long Length), NewsgroupsCorpus> Cache = new();

    private CorpusData(string source, NewsgroupsCorpus corpus, string[] sequences, double validationFraction, CharVocabulary vocabulary)
    {
        Source = source;
        Corpus = corpus;
        Sequences = sequences;
        Vocabulary = vocabulary;
        ValidationFraction = validationFraction;
        Split = ValidationSplit.Create(sequences, validationFraction, ValidationSplit.DefaultSeed);
        TrainSequences = ValidationSplit.Select(sequences, Split.Train);
        ValidationSequences = ValidationSplit.Select(sequences, Split.Validation);
    }

    /// <summary>The archive or folder read.</summary>
    public string Source { get; }

    /// <summary>The whole corpus as loaded.</summary>
    public NewsgroupsCorpus Corpus { get; }

    /// <summary>The sequences used: all of the corpus's, or its first --max-sequences.</summary>
    public string[] Sequences { get; }

    /// <summary>The characters of <see cref="Sequences"/> (32 on the full corpus), or the checkpoint's that the run starts from.</summary>
    public CharVocabulary Vocabulary { get; }

    /// <inheritdoc/>
    public ChartSubject ChartSubject => ChartSubject.Newsgroups;

    /// <summary>The distinct characters of <see cref="Sequences"/>, which a model's <see cref="Vocabulary"/> may exceed.</summary>
    public int DistinctCharacters { get; private init; }

    /// <summary>Whether <see cref="Vocabulary"/> is a model's (<c>--init-from</c>), not the sequences' own.</summary>
    public bool ModelVocabulary { get; private init; }

    /// <summary>The share of sequences held out.</summary>
    public double ValidationFraction { get; }

    /// <summary>The split (identical sequences on one side), seeded with <see cref="ValidationSplit.DefaultSeed"/>.</summary>
    public ValidationSplit Split { get; }

    /// <summary>The training sequences.</summary>
    public string[] TrainSequences { get; }

    /// <summary>The held-out sequences.</summary>
    public string[] ValidationSequences { get; }

    /// <inheritdoc/>
    public ModelExamples NgramExamples(TrainSettings settings)
    {
        // The model's vocabulary is every n-gram of every sequence that has a target after it, so that every held-out
        // window has a row; rows that training never reaches keep their initial values, as the notebook's.
        var ngrams = NgramVocabulary.FromSequences(Sequences, settings.N, windowsPerSequence: null);
        return new ModelExamples(
            ngrams,
            NgramDataset.Create(TrainSequences, Vocabulary, ngrams, settings.NgramWindows).ToBatchSource(),
            NgramDataset.Create(ValidationSequences, Vocabulary, ngrams, windowsPerSequence: null).ToBatchSource());
    }

    /// <inheritdoc/>
    public ModelExamples RecurrentExamples(TrainSettings settings)
    {
        var train = CharSequenceDataset.Create(TrainSequences, Vocabulary);
        var validation = CharSequenceDataset.Create(ValidationSequences, Vocabulary);
        return new ModelExamples(null, new SequenceBatchSource(train.Indices, train.SequenceLength), new SequenceBatchSource(validation.Indices, validation.SequenceLength));
    }

    /// <inheritdoc/>
    public string HeldOutStart(int needed) => ValidationSequences[0][..Math.Min(needed, ValidationSequences[0].Length)];

    /// <inheritdoc/>
    public DataSummary Summarize(ModelExamples? ngram) => new(
        Source, Corpus.TrainDocuments, Corpus.TestDocuments, Sequences.Length, TrainSequences.Length, ValidationSequences.Length,
        Vocabulary.Serialize(), Vocabulary.Count, ngram?.Ngrams!.Count, ngram?.Train.Count, ngram?.Validation.Count);

    /// <inheritdoc/>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"Data: {Sequences.Length} sequences ({TrainSequences.Length} train, {ValidationSequences.Length} validation), {DistinctCharacters} characters")
        + (ModelVocabulary ? string.Create(CultureInfo.InvariantCulture, $" (of the --init-from model's {Vocabulary.Count})") : "");

    /// <summary>
    /// Finds (or downloads) and loads the corpus; its characters are read as ids of <paramref name="vocabulary"/> when
    /// given (a checkpoint's), or else of their own sorted set.
    /// </summary>
    /// <exception cref="CorpusException">The data is missing, corrupt, cannot be downloaded, or has characters outside
    /// the given vocabulary.</exception>
    public static CorpusData Load(AppConsole console, string? dataPath, int? maxSequences, double validationFraction, CharVocabulary? vocabulary = null)
    {
        var source = Locate(console, dataPath);
        var corpus = LoadCached(source);
        var sequences = corpus.Sequences.Take(maxSequences ?? int.MaxValue).ToArray();
        if (sequences.Length < 2)
        {
            throw new CorpusException(source, $"{source} gave {sequences.Length} usable sequences; at least 2 are needed to train and validate.");
        }

        var own = CharVocabulary.FromTexts(sequences);
        if (vocabulary is not null && own.Runes.Where(r => !vocabulary.Contains(r)).ToArray() is { Length: > 0 } unknown)
        {
            throw new CorpusException(source, $"{source} has characters that the vocabulary of {vocabulary.Count} lacks. {new UnknownCharacterException(unknown).Message}");
        }

        var data = new CorpusData(source, corpus, sequences, validationFraction, vocabulary ?? own)
        {
            DistinctCharacters = own.Count,
            ModelVocabulary = vocabulary is not null,
        };
        if (data.TrainSequences.Length == 0 || data.ValidationSequences.Length == 0)
        {
            throw new ArgumentException(
                $"A validation fraction of {validationFraction} leaves {data.TrainSequences.Length} training and {data.ValidationSequences.Length} validation sequences; both need at least one.");
        }

        return data;
    }

    /// <summary>The archive or extracted folder: --data, TENSORLET_DATA, the cache, or a download with a progress bar.</summary>
    public static string Locate(AppConsole console, string? dataPath)
    {
        var options = new NewsgroupsArchiveOptions { Path = dataPath };
        if (NewsgroupsArchive.FindLocal(options) is { } found)
        {
            return found;
        }

        var destination = Path.Combine(options.CacheDirectory, NewsgroupsArchive.FileName);
        console.Line(NotFound(options));
        console.Line($"Downloading {NewsgroupsArchive.DownloadUri} to {destination} (about 14 MB)...");
        if (!console.Interactive)
        {
            var path = NewsgroupsArchive.Locate(options, new PlainDownloadProgress(console));
            console.Line("Download complete.");
            return path;
        }

        string result = "";
        console.Spectre.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(NewsgroupsArchive.FileName);
                result = NewsgroupsArchive.Locate(options, new SpectreDownloadProgress(task));
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Why the corpus was not found: each place looked in, as it was.</summary>
    internal static string NotFound(NewsgroupsArchiveOptions options)
    {
        // An empty or whitespace value is not looked in (NewsgroupsArchive.FindLocal treats it as unset), and says so.
        string environment = options.DataDirectory switch
        {
            null => $"{NewsgroupsArchive.DataEnvironmentVariable} unset",
            var blank when string.IsNullOrWhiteSpace(blank) => $"{NewsgroupsArchive.DataEnvironmentVariable} set but empty and so ignored",
            var folder => $"{NewsgroupsArchive.DataEnvironmentVariable}={folder} holds neither {NewsgroupsArchive.FileName} nor its extracted folders",
        };
        return $"The 20 Newsgroups corpus was not found (no --data, {environment}, nothing in {options.CacheDirectory}).";
    }

    private static NewsgroupsCorpus LoadCached(string source)
    {
        if (!File.Exists(source))
        {
            return NewsgroupsCorpus.Load(source);
        }

        var info = new FileInfo(source);
        return Cache.GetOrAdd((info.FullName, info.LastWriteTimeUtc, info.Length), _ => NewsgroupsCorpus.Load(source));
    }

    // Reports every tenth of the download as a line.
    private sealed class PlainDownloadProgress(AppConsole console) : IProgress<DownloadProgress>
    {
        private int lastTenth = -1;

        public void Report(DownloadProgress value)
        {
            if (value.Fraction is not { } fraction)
            {
                return;
            }

            int tenth = (int)(fraction * 10);
            if (tenth > lastTenth)
            {
                lastTenth = tenth;
                console.Line($"  {tenth * 10,3}%  {value.BytesReceived / 1e6:F1} MB");
            }
        }
    }

    // Called on the downloading thread; a ProgressTask may be updated from any thread.
    private sealed class SpectreDownloadProgress(ProgressTask task) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            if (value.TotalBytes is { } total && total > 0)
            {
                task.MaxValue = total;
            }

            task.Value = value.BytesReceived;
        }
    }
}
