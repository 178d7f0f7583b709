using System.CommandLine;
using Tensorlet.CommandLine;
using Tensorlet.Kernels;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Bench.Quality;

/// <summary>
/// <c>quality [--epochs 10] [--device cpu] [--threads 0] [--model both|lstm|ngram]</c>: the run behind docs/quality.md.
/// The notebook's LSTM 2×256 (dropout 0.5, Adam lr 2e-3, batch 100) on scikit-learn's shuffled order with the
/// last 10% held out, as the libtorch yardstick in the design notes was run; then the n-gram MLP (n = 3, hidden
/// 100, relu, the first 10 windows of each training sequence), scored on every window of the held-out sequences.
/// One line per epoch: validation loss over all positions, over 3..99 and over 3..12. <c>--export-split DIR</c> writes
/// the split instead (DIR/train.txt and DIR/validation.txt, a sequence per line) for the libtorch run
/// (<c>bench/quality-vs-libtorch.sh</c>).
/// </summary>
internal static class QualityCommand
{
    /// <summary>The <c>quality</c> command.</summary>
    public static Command Command()
    {
        var epochs = OptionParsing.Number("--epochs", "Epochs per model", 10, NumberRange<int>.Positive(1_000_000));
        var device = new Option<string>("--device") { Description = "cpu, cuda, ilgpu-cpu or auto", DefaultValueFactory = _ => "cpu" };
        var threads = OptionParsing.Number("--threads", "CPU threads (0: all cores)", 0, new NumberRange<int>(0, 4_096));
        var model = new Option<string>("--model") { Description = "both, lstm or ngram", DefaultValueFactory = _ => "both" };
        model.AcceptOnlyFromAmong("both", "lstm", "ngram");
        var exportSplit = new Option<string?>("--export-split") { HelpName = "DIR", Description = "Write the split (DIR/train.txt, DIR/validation.txt) for the libtorch run and stop" };
        var command = new Command("quality", "The LSTM and n-gram training run behind docs/quality.md") { epochs, device, threads, model, exportSplit };
        command.SetAction(r => Run(r.GetValue(epochs), r.GetValue(device)!, r.GetValue(threads), r.GetValue(model)!, r.GetValue(exportSplit)));
        return command;
    }

    private static int Run(int epochs, string device, int threads, string model, string? exportSplit)
    {
        var archive = NewsgroupsArchive.Locate(new NewsgroupsArchiveOptions { AllowDownload = false });
        var corpus = NewsgroupsCorpus.Load(archive, order: NewsgroupsOrder.ScikitLearnShuffled);
        var sequences = corpus.Sequences;
        var vocabulary = corpus.BuildVocabulary();
        var split = ValidationSplit.Tail(sequences.Count);
        var train = ValidationSplit.Select(sequences, split.Train);
        var validation = ValidationSplit.Select(sequences, split.Validation);
        Console.WriteLine($"{sequences.Count} sequences: {train.Length} train, {validation.Length} validation (the last 10%); {vocabulary.Count} characters");
        if (exportSplit is not null)
        {
            Directory.CreateDirectory(exportSplit);
            File.WriteAllLines(Path.Combine(exportSplit, "train.txt"), train);
            File.WriteAllLines(Path.Combine(exportSplit, "validation.txt"), validation);
            Console.WriteLine($"Wrote {Path.Combine(exportSplit, "train.txt")} and validation.txt.");
            return 0;
        }

        using var dev = Device.Create(device, threads);

        if (model is "both" or "lstm")
        {
            using var lstm = new LstmCharModel(dev, vocabulary.Count, 256, 2, 0.5f, seed: 1);
            using var adam = new Adam(lstm.Parameters, 2e-3f);
            using var loss = new CrossEntropyLoss();
            var trainer = new Trainer(lstm, loss, adam, new TrainerOptions { Epochs = epochs, BatchSize = 100, Seed = 1 });
            trainer.EpochCompleted += r => Console.WriteLine(
                $"lstm epoch {r.Epoch}: train {r.TrainLoss:F3}, validation {r.Validation!.Loss:F4} nats ({r.Validation.BitsPerCharacter:F3} bits), " +
                $"positions 3..99 {r.Validation.MeanLoss(3, 99):F4}, 3..12 {r.Validation.MeanLoss(3, 12):F4}; {r.CharactersPerSecond:F0} chars/s");
            trainer.Train(Sequences(train, vocabulary), Sequences(validation, vocabulary));
        }

        if (model is "both" or "ngram")
        {
            // Every 3-gram of the corpus has a row, so every held-out window can be scored; rows that training never
            // reaches keep their initial values, as with the notebook's one-hot input.
            var ngrams = NgramVocabulary.FromSequences(sequences, 3, windowsPerSequence: null);
            var trainWindows = NgramDataset.Create(train, vocabulary, ngrams);
            var validationWindows = NgramDataset.Create(validation, vocabulary, ngrams, windowsPerSequence: null);
            using var mlp = new NgramMlp(dev, ngrams.Count, vocabulary.Count, 100, Activation.Relu, seed: 1);
            using var adam = new Adam(mlp.Parameters, 2e-3f);
            using var loss = new CrossEntropyLoss();
            var trainer = new Trainer(mlp, loss, adam, new TrainerOptions { Epochs = epochs, BatchSize = 100, Seed = 1 });
            trainer.EpochCompleted += r => Console.WriteLine(
                $"ngram epoch {r.Epoch}: train {r.TrainLoss:F3}, validation positions 3..99 {r.Validation!.MeanLoss(3, 99):F4}, 3..12 {r.Validation.MeanLoss(3, 12):F4}; {r.CharactersPerSecond:F0} windows/s");
            trainer.Train(trainWindows.ToBatchSource(), validationWindows.ToBatchSource());
        }

        return 0;
    }

    private static SequenceBatchSource Sequences(string[] sequences, CharVocabulary vocabulary)
    {
        var data = CharSequenceDataset.Create(sequences, vocabulary);
        return new SequenceBatchSource(data.Indices, data.SequenceLength);
    }
}
