using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// The examples a training-step measurement draws its batches from: the notebook's data (20 Newsgroups,
/// cleaned into 100-character sequences, found through TENSORLET_DATA without downloading), or random
/// ids of the same shapes. The step's cost does not depend on the ids, only on the shapes.
/// </summary>
internal sealed class TrainStepData
{
    /// <summary>Characters per sequence, as in the notebook.</summary>
    public const int SequenceLength = 100;

    /// <summary>The corpus's character vocabulary: space, ! , . ; ? and a–z.</summary>
    public const int SyntheticCharacters = 32;

    /// <summary>The notebook's 3-gram vocabulary over the first 10 windows of every sequence.</summary>
    public const int SyntheticNgrams = 4669;

    private TrainStepData(IBatchSource source, int characters, int ngrams, string description)
    {
        Source = source;
        CharacterCount = characters;
        NgramCount = ngrams;
        Description = description;
    }

    /// <summary>The batch source: time-major sequences (LSTM) or windows (n-gram).</summary>
    public IBatchSource Source { get; }

    /// <summary>The character vocabulary size (model output width).</summary>
    public int CharacterCount { get; }

    /// <summary>The n-gram vocabulary size (n-gram model only; 0 for the LSTM).</summary>
    public int NgramCount { get; }

    /// <summary>Where the data came from, for the report.</summary>
    public string Description { get; }

    /// <summary>Builds the examples for <paramref name="model"/> (lstm or ngram).</summary>
    /// <exception cref="CorpusException">Real data was asked for but the archive is not found.</exception>
    public static TrainStepData Create(string model, int n, bool synthetic, int seed)
    {
        if (synthetic)
        {
            return Synthetic(model, n, seed);
        }

        string path = NewsgroupsArchive.Locate(new NewsgroupsArchiveOptions { AllowDownload = false });
        var corpus = NewsgroupsCorpus.Load(path);
        var characters = corpus.BuildVocabulary();
        if (model == "lstm")
        {
            var dataset = CharSequenceDataset.Create(corpus.Sequences, characters);
            return new TrainStepData(
                new SequenceBatchSource(dataset.Indices, dataset.SequenceLength),
                characters.Count,
                0,
                $"20 Newsgroups ({path}): {dataset.Count} sequences of {dataset.SequenceLength}, {characters.Count} characters");
        }

        var ngrams = NgramVocabulary.FromSequences(corpus.Sequences, n);
        var windows = NgramDataset.Create(corpus.Sequences, characters, ngrams);
        return new TrainStepData(
            new WindowBatchSource(windows.Inputs, windows.Targets, Positions(windows.SequenceOf, n)),
            characters.Count,
            ngrams.Count,
            $"20 Newsgroups ({path}): {windows.Count} windows (first {NgramWindows.NotebookWindowsPerSequence} per sequence), {ngrams.Count} {n}-grams, {characters.Count} characters");
    }

    private static TrainStepData Synthetic(string model, int n, int seed)
    {
        var random = new Random(seed);
        if (model == "lstm")
        {
            // As many sequences as the corpus has, so batches are drawn from the same-sized pool.
            var ids = new int[16828 * SequenceLength];
            for (int i = 0; i < ids.Length; i++)
            {
                ids[i] = random.Next(SyntheticCharacters);
            }

            return new TrainStepData(new SequenceBatchSource(ids, SequenceLength), SyntheticCharacters, 0, $"synthetic: 16828 random sequences of {SequenceLength}, {SyntheticCharacters} characters");
        }

        int count = 168280;
        var inputs = new int[count];
        var targets = new int[count];
        var positions = new int[count];
        for (int i = 0; i < count; i++)
        {
            inputs[i] = random.Next(SyntheticNgrams);
            targets[i] = random.Next(SyntheticCharacters);
            positions[i] = n + (i % NgramWindows.NotebookWindowsPerSequence);
        }

        return new TrainStepData(new WindowBatchSource(inputs, targets, positions), SyntheticCharacters, SyntheticNgrams, $"synthetic: {count} random windows, {SyntheticNgrams} {n}-grams, {SyntheticCharacters} characters");
    }

    // The window's target position in its sequence (window i predicts character i + n). Training does not
    // read it; it is filled so the source is complete. Windows come sequence by sequence, in order.
    private static int[] Positions(int[] sequenceOf, int n)
    {
        var positions = new int[sequenceOf.Length];
        int run = 0;
        for (int i = 0; i < sequenceOf.Length; i++)
        {
            run = i > 0 && sequenceOf[i] == sequenceOf[i - 1] ? run + 1 : 0;
            positions[i] = run + n;
        }

        return positions;
    }
}
