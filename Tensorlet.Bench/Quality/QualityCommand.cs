using System.CommandLine;
using System.Text;
using Tensorlet.Backends.Cpu;
using Tensorlet.CommandLine;
using Tensorlet.Kernels;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Bench.Quality;

/// <summary>
/// <c>quality [--epochs 10] [--device cpu] [--threads 0] [--model both|lstm|ngram]</c> (<c>--threads</c> with the cpu device
/// only): the run behind docs/quality.md.
/// The notebook's LSTM 2×256 (dropout 0.5, Adam lr 2e-3, batch 100) on scikit-learn's shuffled order with the
/// last 10% held out, as the libtorch yardstick in the design notes was run; then the n-gram MLP (n = 3, hidden
/// 100, relu, the first 10 windows of each training sequence), scored on every window of the held-out sequences.
/// One line per epoch: validation loss over all positions, over 3..99 and over 3..12. <c>--export-split DIR</c> writes
/// the split instead (DIR/train.txt and DIR/validation.txt, a sequence per line) for the libtorch run
/// (<c>bench/quality-vs-libtorch.sh</c>), taking none of the training flags: both targets are checked before either is
/// written, and each is replaced atomically.
/// </summary>
internal static class QualityCommand
{
    /// <summary>The <c>quality</c> command.</summary>
    public static Command Command()
    {
        var epochs = OptionParsing.Number("--epochs", "Epochs per model", 10, NumberRange<int>.Positive(1_000_000));
        var device = new Option<string>("--device") { Description = "cpu, cuda, ilgpu-cpu or auto", DefaultValueFactory = _ => "cpu" };
        var threads = OptionParsing.Number("--threads", "With --device cpu: CPU threads (0: all cores)", 0, new NumberRange<int>(0, 4_096));
        var model = new Option<string>("--model") { Description = "both, lstm or ngram", DefaultValueFactory = _ => "both" };
        model.AcceptOnlyFromAmong("both", "lstm", "ngram");
        var exportSplit = new Option<string?>("--export-split") { HelpName = "DIR", Description = "Write the split (DIR/train.txt, DIR/validation.txt) for the libtorch run and stop" };
        exportSplit.Validators.Add(r =>
        {
            if (string.IsNullOrEmpty(r.Tokens.FirstOrDefault()?.Value))
            {
                r.AddError("--export-split needs the folder to write train.txt and validation.txt in; got an empty path.");
            }
        });
        var command = new Command("quality", "The LSTM and n-gram training run behind docs/quality.md") { epochs, device, threads, model, exportSplit };

        // The export trains nothing: a training flag beside it would be ignored, so it is a parse error (one line, exit 2).
        command.Validators.Add(r =>
        {
            if (r.GetResult(exportSplit) is { Implicit: false })
            {
                var training = new Option[] { epochs, device, threads, model }.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();
                if (training.Length > 0)
                {
                    r.AddError($"{string.Join(", ", training)} {(training.Length == 1 ? "is a training flag" : "are training flags")}; --export-split writes the split and trains nothing.");
                }
            }
        });
        command.SetAction(r => Run(r.GetValue(epochs), r.GetValue(device)!, r.WasGiven(threads) ? r.GetValue(threads) : null, r.GetValue(model)!, r.GetValue(exportSplit)));
        return command;
    }

    private static int Run(int epochs, string device, int? threads, string model, string? exportSplit)
    {
        if (exportSplit is not null)
        {
            return Export(exportSplit);
        }

        // The device before the corpus: a wrong name, a device that is not here, or --threads for one that takes none is
        // found in a moment, not after the loading.
        using var dev = Device.Create(device, threads ?? 0);
        if (threads is not null && dev.Backend is not CpuBackend)
        {
            throw new DeviceNotAvailableException($"--threads applies to the cpu device only, not {dev.Name}.");
        }

        var (sequences, vocabulary, train, validation) = LoadSplit();

        if (model is "both" or "lstm")
        {
            using var lstm = new LstmCharModel(dev, vocabulary.Count, 256, 2, 0.5f, seed: 1);
            using var adam = new Adam(lstm.Parameters, 2e-3f);
            using var loss = new CrossEntropyLoss();
            var trainer = new Trainer(lstm, loss, adam, new TrainerOptions { Epochs = epochs, BatchSize = 100, Seed = 1 });
            trainer.EpochCompleted += r => Console.WriteLine(
                $"lstm epoch {r.Epoch}: train {r.TrainLoss:F3}, validation {r.Validation!.Loss:F4} nats ({r.Validation.Loss / Math.Log(2):F3} bits), " +
                $"positions 3..99 {r.Validation.MeanLoss(3, 99):F4}, 3..12 {r.Validation.MeanLoss(3, 12):F4}; {r.TargetsPerSecond:F0} chars/s");
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
                $"ngram epoch {r.Epoch}: train {r.TrainLoss:F3}, validation positions 3..99 {r.Validation!.MeanLoss(3, 99):F4}, 3..12 {r.Validation.MeanLoss(3, 12):F4}; {r.TargetsPerSecond:F0} windows/s");
            trainer.Train(trainWindows.ToBatchSource(), validationWindows.ToBatchSource());
        }

        return 0;
    }

    // --export-split: writes the split and stops.
    private static int Export(string folder)
    {
        // Before the corpus is loaded: a target that cannot be written is found in a moment, not after the loading.
        var (trainPath, validationPath) = ExportTargets(folder);
        var (_, _, train, validation) = LoadSplit();

        // Each file is replaced atomically, and validation.txt is committed while train.txt's new content is still a
        // temporary file: when validation.txt cannot be written, train.txt is left as it was too.
        AtomicFile.Write(trainPath, stream =>
        {
            WriteLines(stream, train);
            AtomicFile.Write(validationPath, validationStream => WriteLines(validationStream, validation));
        });
        Console.WriteLine($"Wrote {trainPath} and validation.txt.");
        return 0;
    }

    // The corpus in scikit-learn's shuffled order, split with the last 10% held out; prints the split's sizes.
    private static (IReadOnlyList<string> Sequences, CharVocabulary Vocabulary, string[] Train, string[] Validation) LoadSplit()
    {
        var archive = NewsgroupsArchive.Locate(new NewsgroupsArchiveOptions { AllowDownload = false });
        var corpus = NewsgroupsCorpus.Load(archive, order: NewsgroupsOrder.ScikitLearnShuffled);
        var sequences = corpus.Sequences;
        var vocabulary = corpus.BuildVocabulary();
        var split = ValidationSplit.Tail(sequences.Count);
        var train = ValidationSplit.Select(sequences, split.Train);
        var validation = ValidationSplit.Select(sequences, split.Validation);
        Console.WriteLine($"{sequences.Count} sequences: {train.Length} train, {validation.Length} validation (the last 10%); {vocabulary.Count} characters");
        return (sequences, vocabulary, train, validation);
    }

    /// <summary>
    /// The files <c>--export-split <paramref name="folder"/></c> writes, DIR/train.txt and DIR/validation.txt, checked
    /// before either is written: DIR is not a file, neither target is a folder, and the nearest folder that exists
    /// (DIR, or the one DIR is to be made in) takes new files.
    /// </summary>
    /// <exception cref="IOException">One of those does not hold; the message names the path and the problem.</exception>
    private static (string Train, string Validation) ExportTargets(string folder)
    {
        string full = Path.GetFullPath(folder);
        if (File.Exists(full))
        {
            throw new IOException($"--export-split {full} is a file; give the folder to write train.txt and validation.txt in.");
        }

        var targets = (Train: Path.Combine(full, "train.txt"), Validation: Path.Combine(full, "validation.txt"));
        foreach (var target in new[] { targets.Train, targets.Validation })
        {
            if (Directory.Exists(target))
            {
                throw new IOException($"{target} is a folder, where --export-split writes a file; neither train.txt nor validation.txt was written.");
            }
        }

        string? existing = full;
        while (existing is not null && !Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                throw new IOException($"{existing} is a file, so the folder {full} cannot be made for --export-split.");
            }

            existing = Path.GetDirectoryName(existing);
        }

        if (existing is null)
        {
            throw new IOException($"No folder on the path {full} exists, so --export-split cannot make it.");
        }

        try
        {
            // The writes' temporary files are made the same way, in the same folder or in DIR made in it.
            using var probe = new FileStream(Path.Combine(existing, $".export-split.{Guid.NewGuid():N}.tmp"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"{existing} is not writable, so --export-split cannot write train.txt and validation.txt ({e.Message}).", e);
        }

        return targets;
    }

    // The lines as File.WriteAllLines writes them (UTF-8 without a byte order mark, each ended by the system's newline).
    private static void WriteLines(Stream stream, string[] lines)
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
        foreach (var line in lines)
        {
            writer.WriteLine(line);
        }
    }

    private static SequenceBatchSource Sequences(string[] sequences, CharVocabulary vocabulary)
    {
        var data = CharSequenceDataset.Create(sequences, vocabulary);
        return new SequenceBatchSource(data.Indices, data.SequenceLength);
    }
}
