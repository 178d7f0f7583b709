using System.CommandLine;
using System.Globalization;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;

namespace Tensorlet.Samples.CharPredict;

/// <summary><c>data</c>: what the corpus gives: documents, sequences, vocabulary, n-gram counts, the split.</summary>
internal sealed class DataCommand
{
    private readonly AppConsole console;
    private readonly Option<string?> data = CommonOptions.Data();
    private readonly Option<int?> maxSequences = CommonOptions.MaxSequences();
    private readonly Option<int> n = OptionParsing.Number("--n", "Characters per n-gram", TrainSettings.Default.N, NumberRange<int>.Positive(Limits.MaxN));
    private readonly Option<int> ngramWindows = OptionParsing.NgramWindows("n-gram training windows per sequence: a number, or all", NgramWindows.NotebookWindowsPerSequence);
    private readonly Option<double> validationFraction = OptionParsing.Number("--validation-fraction", "Share of sequences held out", ValidationSplit.DefaultFraction, new NumberRange<double>(0, 1, MinOpen: true, MaxOpen: true));
    private readonly Option<string?> export = new("--export") { HelpName = "FILE", Description = "Write the cleaned sequences to this file, one per line (never trimmed)" };

    public DataCommand(AppConsole console)
    {
        this.console = console;
        Command = new Command("data", "Describe the corpus as the models see it") { data, maxSequences, n, ngramWindows, validationFraction, export };
        Command.SetAction(Execute);
    }

    /// <summary>The command.</summary>
    public Command Command { get; }

    private int Execute(ParseResult result)
    {
        int? windows = OptionParsing.WindowsPerSequence(result.GetValue(ngramWindows));
        int size = result.GetValue(n);
        var corpus = CorpusData.Load(console, result.GetValue(data), result.GetValue(maxSequences), result.GetValue(validationFraction));
        var ngrams = NgramVocabulary.FromSequences(corpus.Sequences, size, windowsPerSequence: null);
        var notebookNgrams = NgramVocabulary.FromSequences(corpus.Sequences, size, windows);
        var train = NgramDataset.Create(corpus.TrainSequences, corpus.Vocabulary, ngrams, windows);
        var validation = NgramDataset.Create(corpus.ValidationSequences, corpus.Vocabulary, ngrams, windowsPerSequence: null);
        int allWindows = corpus.Sequences.Sum(s => NgramWindows.PerSequence(s.Length, size, windows));
        string windowsLabel = windows is { } k ? $"first {k} windows per sequence" : "every window";
        var lines = new[]
        {
            $"source: {corpus.Source}",
            $"documents: {corpus.Corpus.TrainDocuments} train, {corpus.Corpus.TestDocuments} test, {corpus.Corpus.Documents} in all",
            $"sequences kept: {corpus.Corpus.Sequences.Count} of {NotebookCleaning.SequenceLength} characters ({corpus.Corpus.Sequences.Distinct(StringComparer.Ordinal).Count()} distinct)"
                + (corpus.Sequences.Length < corpus.Corpus.Sequences.Count ? $"; using the first {corpus.Sequences.Length}" : ""),
            $"vocabulary: {corpus.Vocabulary.Count} characters \"{corpus.Vocabulary.Serialize()}\"",
            $"n-grams (n={size}, {windowsLabel}, all sequences, as the notebook counts): {notebookNgrams.Count} unique, {allWindows} windows",
            $"n-gram model vocabulary (every n-gram followed by a character): {ngrams.Count}",
            $"train: {corpus.TrainSequences.Length} sequences, {corpus.TrainSequences.Sum(s => s.Length - 1)} LSTM targets, {train.Count} n-gram windows ({windowsLabel})",
            $"validation: {corpus.ValidationSequences.Length} sequences ({corpus.ValidationFraction.ToString(CultureInfo.InvariantCulture)} held out, copies kept on one side), {corpus.ValidationSequences.Sum(s => s.Length - 1)} LSTM targets, {validation.Count} n-gram windows (positions {size}..99)",
        };
        foreach (var line in lines)
        {
            console.Output.WriteLine(line);
        }

        if (result.GetValue(export) is { } path)
        {
            CommonOptions.EnsureNotTheInput(path, corpus.Source, "--export");
            if (corpus.Sequences.Length == corpus.Corpus.Sequences.Count)
            {
                corpus.Corpus.ExportSequences(path);
            }
            else
            {
                // A --max-sequences slice, in the same format: each sequence as kept, then "\n".
                AtomicFile.Write(path, stream =>
                {
                    using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
                    foreach (var sequence in corpus.Sequences)
                    {
                        writer.Write(sequence);
                        writer.Write('\n');
                    }
                });
            }

            console.Output.WriteLine($"exported: {corpus.Sequences.Length} sequences to {path}");
        }

        return 0;
    }
}
