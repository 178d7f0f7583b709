using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// The examples a training-step measurement draws its batches from: the notebook's data (20 Newsgroups,
/// cleaned into 100-character sequences, found through TENSORLET_DATA without downloading), or random
/// ids of the same shapes; for the CNN, always random images and class ids of CIFAR-10's shapes. The step's cost
/// does not depend on the values, only on the shapes.
/// </summary>
internal sealed class TrainStepData
{
    /// <summary>Characters per sequence, as in the notebook.</summary>
    public const int SequenceLength = 100;

    /// <summary>The corpus's character vocabulary: space, ! , . ; ? and a–z.</summary>
    public const int SyntheticCharacters = 32;

    /// <summary>The notebook's 3-gram vocabulary over the first 10 windows of every sequence.</summary>
    public const int SyntheticNgrams = 4669;

    /// <summary>The random images the CNN's batches are drawn from: 20 batches of the default 100.</summary>
    public const int SyntheticImages = 2000;

    private TrainStepData(IBatchSource source, int characters, int ngrams, string description)
    {
        Source = source;
        ClassCount = characters;
        NgramCount = ngrams;
        Description = description;
    }

    private TrainStepData(IBatchSource<float, int> images, string description)
    {
        Images = images;
        ClassCount = TrainStepCnn.Classes;
        Description = description;
    }

    /// <summary>The char models' batch source: time-major sequences (LSTM) or windows (n-gram); null for the CNN.</summary>
    public IBatchSource? Source { get; }

    /// <summary>The CNN's batch source: images [3, 32, 32] and one class id each; null for the char models.</summary>
    public IBatchSource<float, int>? Images { get; }

    /// <summary>The examples a batch is drawn from: sequences, windows or images.</summary>
    public int Count => Source?.Count ?? Images!.Count;

    /// <summary>What one example is, for messages: sequences, windows or images (plural).</summary>
    public string ExampleName => Images is not null ? "images" : Source is SequenceBatchSource ? "sequences" : "windows";

    /// <summary>Loss rows per example: the predicted characters of a sequence (99), or 1 (a window, an image).</summary>
    public int RowsPerExample => Source?.RowsPerExample ?? Images!.RowsPerExample;

    /// <summary>The model's output width, the classes of the loss: the character vocabulary, or the CNN's 10.</summary>
    public int ClassCount { get; }

    /// <summary>The n-gram vocabulary size (n-gram model only; 0 for the others).</summary>
    public int NgramCount { get; }

    /// <summary>Where the data came from, for the report.</summary>
    public string Description { get; }

    /// <summary>Builds the examples for <paramref name="model"/> (lstm, ngram or cnn; the CNN's are always random).</summary>
    /// <exception cref="CorpusException">Real data was asked for but the archive is not found.</exception>
    public static TrainStepData Create(string model, int n, bool synthetic, int seed)
    {
        if (model == "cnn")
        {
            return RandomImages(seed);
        }

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

    // Pixels uniform in [−1, 1), as normalized images are, and class ids uniform over the classes.
    private static TrainStepData RandomImages(int seed)
    {
        var random = new Random(seed);
        const int Pixels = TrainStepCnn.Channels * TrainStepCnn.ImageSize * TrainStepCnn.ImageSize;
        var pixels = new float[SyntheticImages * Pixels];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (2 * random.NextSingle()) - 1;
        }

        var labels = new int[SyntheticImages];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = random.Next(TrainStepCnn.Classes);
        }

        int[] shape = [TrainStepCnn.Channels, TrainStepCnn.ImageSize, TrainStepCnn.ImageSize];
        return new TrainStepData(new TensorBatchSource<float, int>(pixels, shape, labels, []), $"synthetic: {SyntheticImages} random images {string.Join('×', shape)}, {TrainStepCnn.Classes} classes");
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
