using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// What a training run reads: the 20 Newsgroups sequences (<see cref="CorpusData"/>) or a text of the user's own
/// (<see cref="TextData"/>). It gives each model family its training and validation examples.
/// </summary>
internal interface ITrainingData
{
    /// <summary>The archive, file or folder read.</summary>
    string Source { get; }

    /// <summary>Every character of the data, sorted.</summary>
    CharVocabulary Vocabulary { get; }

    /// <summary>What loss.png is of: its title's name, and which validation losses it draws.</summary>
    ChartSubject ChartSubject { get; }

    /// <summary>The n-gram vocabulary, training and validation examples of the n-gram MLP.</summary>
    ModelExamples NgramExamples(TrainSettings settings);

    /// <summary>The training and validation examples of the recurrent model (LSTM or GRU).</summary>
    ModelExamples RecurrentExamples(TrainSettings settings);

    /// <summary>
    /// The first <paramref name="needed"/> characters of the held-out text, which the per-epoch samples start from when
    /// "the " is not in the vocabulary.
    /// </summary>
    string HeldOutStart(int needed);

    /// <summary>The summary for config.json (<paramref name="ngram"/>: the n-gram model's examples, when the run trains it).</summary>
    DataSummary Summarize(ModelExamples? ngram);

    /// <summary>One line on the data: its size and split.</summary>
    string Describe();
}

/// <summary>A model's examples: its n-gram vocabulary (n-gram model only), training and validation batches.</summary>
internal sealed record ModelExamples(NgramVocabulary? Ngrams, IBatchSource Train, IBatchSource Validation);

/// <summary>What a run trained on (config.json's "data"). The document and sequence counts are 20 Newsgroups'; the character counts a text's.</summary>
internal sealed record DataSummary(
    string Source,
    int? TrainDocuments,
    int? TestDocuments,
    int? Sequences,
    int? TrainSequences,
    int? ValidationSequences,
    string Vocabulary,
    int VocabularySize,
    int? NgramVocabularySize,
    int? NgramTrainWindows,
    int? NgramValidationWindows,
    IReadOnlyList<string>? Files = null,
    int? Characters = null,
    int? TrainCharacters = null,
    int? ValidationCharacters = null);
