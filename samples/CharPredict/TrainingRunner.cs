using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Optim;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// Trains the run's models one after the other (n-gram first), writing checkpoints, metrics.csv, loss.png and
/// samples.txt after every epoch, and a checkpoint plus the partial epoch's tallies when stopped mid-epoch.
/// </summary>
internal sealed class TrainingRunner(
    AppConsole console, TrainSettings settings, RunFolder run, CorpusData data, Device device, int? stopAfterBatches, CancellationToken cancellation)
{
    /// <summary>The exit code of a run stopped by Ctrl+C (after saving), as shells report SIGINT.</summary>
    public const int StoppedExitCode = 130;

    private int batchesRun;

    /// <summary>Trains every model of the run that is not finished yet; returns the exit code.</summary>
    public int Run(bool resuming)
    {
        NgramVocabulary? ngrams = null;
        WindowBatchSource? ngramTrain = null;
        WindowBatchSource? ngramValidation = null;
        if (settings.Kinds.Contains(ModelKind.Ngram))
        {
            ngrams = NgramWindowSet.Vocabulary(data.Sequences, settings.N);
            ngramTrain = NgramWindowSet.Create(data.TrainSequences, data.Vocabulary, ngrams, settings.NgramWindows).Source;
            ngramValidation = NgramWindowSet.Create(data.ValidationSequences, data.Vocabulary, ngrams, null).Source;
        }

        var summary = new DataSummary(
            data.Source, data.Corpus.TrainDocuments, data.Corpus.TestDocuments, data.Sequences.Length, data.TrainSequences.Length, data.ValidationSequences.Length,
            data.Vocabulary.Serialize(), data.Vocabulary.Count, ngrams?.Count, ngramTrain?.Count, ngramValidation?.Count);
        if (!resuming)
        {
            new RunConfig(settings, summary, device.Description, DateTimeOffset.Now).Write(run.Config);
        }

        console.Line($"Run folder: {run.Path}");
        console.Line(string.Create(
            CultureInfo.InvariantCulture,
            $"Data: {summary.Sequences} sequences ({summary.TrainSequences} train, {summary.ValidationSequences} validation), {summary.VocabularySize} characters"));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        foreach (var kind in settings.Kinds)
        {
            bool stopped = kind == ModelKind.Ngram
                ? Train(kind, CharModelSpec.Ngram(settings.N, ngrams!.Count, data.Vocabulary.Count, settings.NgramHidden, settings.NgramActivation), ngrams, ngramTrain!, ngramValidation!, resuming, stop)
                : TrainLstm(resuming, stop);
            if (stopped)
            {
                console.Line($"Stopped. The checkpoint is saved; continue with: train --resume {run.Path}");
                return StoppedExitCode;
            }
        }

        Summarize();
        return 0;
    }

    private bool TrainLstm(bool resuming, CancellationTokenSource stop)
    {
        var train = CharSequenceDataset.Create(data.TrainSequences, data.Vocabulary);
        var validation = CharSequenceDataset.Create(data.ValidationSequences, data.Vocabulary);
        var spec = CharModelSpec.Lstm(data.Vocabulary.Count, settings.LstmHidden, settings.LstmLayers, settings.LstmDropout);
        return Train(
            ModelKind.Lstm, spec, null,
            new SequenceBatchSource(train.Indices, train.SequenceLength), new SequenceBatchSource(validation.Indices, validation.SequenceLength), resuming, stop);
    }

    // Trains one model to settings.Epochs; true when stopped early (the checkpoint is then saved).
    private bool Train(ModelKind kind, CharModelSpec spec, NgramVocabulary? ngrams, IBatchSource train, IBatchSource validation, bool resuming, CancellationTokenSource stop)
    {
        string name = RunFolder.NameOf(kind);
        string checkpointPath = run.Checkpoint(kind);
        TrainingPosition? start = null;
        var carried = new PartialEpoch(0, 0, 0, 0);
        ICharModel model;
        Adam optimizer;
        if (resuming && File.Exists(checkpointPath))
        {
            var checkpoint = ModelCheckpoint.Read(checkpointPath, kind);
            checkpoint.EnsureVocabulary(data.Vocabulary);
            if (ngrams is not null && checkpoint.Ngrams!.Serialize() != ngrams.Serialize())
            {
                throw new CheckpointException($"{checkpointPath} was trained on a different n-gram vocabulary ({checkpoint.Ngrams.Count} {checkpoint.Ngrams.NgramOrder}-grams) than the data gives ({ngrams.Count}).");
            }

            model = checkpoint.CreateModel(device);
            optimizer = new Adam(model.Parameters, settings.LearningRate);
            checkpoint.LoadOptimizerState(model, optimizer);
            start = checkpoint.Position;
            carried = PartialEpoch.Read(run.PartialEpoch(kind), start.Step)
                ?? new PartialEpoch(start.Step, 0, 0, MetricsRow.ReadAll(run.Metrics).LastOrDefault(r => r.Model == name && r.Epoch == start.Epoch)?.Seconds ?? 0);

            // Rows past the checkpoint (a crash between the metrics and the checkpoint) are redone.
            var rows = MetricsRow.ReadAll(run.Metrics);
            if (rows.RemoveAll(r => r.Model == name && r.Epoch > start.Epoch) > 0)
            {
                MetricsRow.WriteAll(run.Metrics, rows);
            }

            if (start.Epoch >= settings.Epochs)
            {
                console.Line($"{name}: already trained for {start.Epoch} epochs.");
                optimizer.Dispose();
                model.Dispose();
                return false;
            }

            console.Line($"{name}: resuming at epoch {start.Epoch + 1}, batch {start.BatchInEpoch + 1} (step {start.Step}).");
        }
        else
        {
            model = spec.Create(device, settings.Seed);
            optimizer = new Adam(model.Parameters, settings.LearningRate);
        }

        if (model is LstmCharModel lstm)
        {
            // A model rebuilt from a checkpoint gets seed 0; dropout masks must follow the run's seed to resume exactly.
            lstm.DropoutSeed = (ulong)settings.Seed;
        }

        using var loaded = new LoadedModel(model, data.Vocabulary, ngrams);
        using var adam = optimizer;
        long parameters = model.Parameters.Length;
        console.Line(string.Create(
            CultureInfo.InvariantCulture,
            $"{name}: {Describe(spec)}, {parameters:N0} parameters, {train.Count:N0} training examples, {validation.Count:N0} validation examples"));
        var trainer = new Trainer(model, optimizer, new TrainerOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.Batch,
            Seed = settings.Seed,
            MaxBatchesPerEpoch = settings.MaxBatches,
            GradientClipNorm = settings.ClipNorm,
        });
        string sampleStart = SampleStart(spec);
        if (settings.SampleLength > 0)
        {
            trainer.Sampler = () => loaded.Generate(sampleStart, settings.SampleLength, settings.SampleTemperature, settings.Seed);
        }

        var clock = Stopwatch.StartNew();
        double lossSum = carried.LossSum;
        int batches = carried.Batches;
        double secondsBefore = carried.Seconds;
        trainer.EpochCompleted += report =>
        {
            var result = report.Validation!;
            double trainLoss = batches == 0 ? double.NaN : lossSum / batches;
            double all = result.Loss;
            double common = result.MeanLoss(settings.N, int.MaxValue);
            double seconds = secondsBefore + clock.Elapsed.TotalSeconds;
            var row = new MetricsRow(name, report.Epoch, trainLoss, all, common, all / Math.Log(2), report.CharactersPerSecond, seconds);
            var rows = MetricsRow.ReadAll(run.Metrics);
            rows.RemoveAll(r => r.Model == name && r.Epoch >= report.Epoch);
            rows.Add(row);
            MetricsRow.WriteAll(run.Metrics, rows);
            ModelCheckpoint.Save(checkpointPath, model, spec, data.Vocabulary, ngrams, report.Position, optimizer);
            File.Delete(run.PartialEpoch(kind));
            if (report.Sample is { } sample)
            {
                File.AppendAllText(run.Samples, $"[{name} epoch {report.Epoch}, temperature {settings.SampleTemperature.ToString(CultureInfo.InvariantCulture)}] {sampleStart}{sample}\n");
            }

            TryChart(rows);
            console.Line(string.Create(
                CultureInfo.InvariantCulture,
                $"{name} epoch {report.Epoch}/{settings.Epochs}: train {trainLoss:F4}  val {all:F4} ({settings.N}..99: {common:F4})  {row.ValBpc:F3} bits/char  {report.CharactersPerSecond:N0} chars/s  {seconds:F1} s"));
            if (report.Sample is { } text)
            {
                console.Line($"  \"{sampleStart}{text}\"");
            }

            (lossSum, batches) = (0, 0);
        };

        TrainingResult? outcome = null;
        TrainingProgressView.Run(console, name, report =>
        {
            trainer.BatchCompleted += progress =>
            {
                lossSum += progress.Loss;
                batches++;
                report(progress);
                if (stopAfterBatches is { } limit && ++batchesRun >= limit)
                {
                    stop.Cancel();
                }
            };
            outcome = trainer.Train(train, validation, start, stop.Token);
        });

        if (outcome!.Cancelled)
        {
            var partial = new PartialEpoch(outcome.Position.Step, lossSum, batches, secondsBefore + clock.Elapsed.TotalSeconds);
            ModelCheckpoint.Save(checkpointPath, model, spec, data.Vocabulary, ngrams, outcome.Position, optimizer);
            partial.Write(run.PartialEpoch(kind));
            return true;
        }

        return false;
    }

    // "the " when the model can start from it, else the start of the first validation sequence.
    private string SampleStart(CharModelSpec spec)
    {
        const string preferred = "the ";
        int needed = Math.Max(1, spec.NgramOrder);
        if (preferred.Length >= needed && preferred.All(data.Vocabulary.Contains))
        {
            return preferred;
        }

        return data.ValidationSequences[0][..Math.Min(needed, data.ValidationSequences[0].Length)];
    }

    private void TryChart(IReadOnlyList<MetricsRow> rows)
    {
        try
        {
            LossChart.Write(run.Chart, rows);
        }
        catch (Exception e) when (e is IOException or TypeInitializationException or DllNotFoundException)
        {
            // The chart is a convenience; metrics.csv holds the same numbers.
            console.Warn($"could not draw {run.Chart}: {e.Message}");
        }
    }

    private static string Describe(CharModelSpec spec) => spec.Kind == ModelKind.Lstm
        ? string.Create(CultureInfo.InvariantCulture, $"LSTM {spec.NumLayers}x{spec.HiddenSize}, dropout {spec.Dropout}")
        : string.Create(CultureInfo.InvariantCulture, $"n-gram MLP, n={spec.NgramOrder}, {spec.NgramVocabularySize:N0} n-grams, hidden {spec.HiddenSize} {spec.Activation.ToString().ToLowerInvariant()}");

    // Which model wins on the positions both predict, and after how long.
    private void Summarize()
    {
        var rows = MetricsRow.ReadAll(run.Metrics);
        var ngram = rows.Where(r => r.Model == "ngram").ToArray();
        var lstm = rows.Where(r => r.Model == "lstm").ToArray();
        console.Line();
        console.Line($"Validation loss on positions {settings.N}..99, where both models predict:");
        foreach (var model in new[] { ngram, lstm }.Where(m => m.Length > 0))
        {
            var best = model.MinBy(r => r.ValLossCommon)!;
            string all = best.Model == "lstm" ? string.Create(CultureInfo.InvariantCulture, $"; over all positions {best.ValLossAll:F4} nats ({best.ValBpc:F3} bits/char)") : "";
            console.Line(string.Create(
                CultureInfo.InvariantCulture,
                $"  {best.Model,-5} best {best.ValLossCommon:F4} nats ({best.ValLossCommon / Math.Log(2):F3} bits/char) at epoch {best.Epoch}, after {best.Seconds:F1} s{all}"));
        }

        if (ngram.Length > 0 && lstm.Length > 0)
        {
            double ngramBest = ngram.Min(r => r.ValLossCommon);
            double lstmBest = lstm.Min(r => r.ValLossCommon);
            var overtake = lstm.OrderBy(r => r.Epoch).FirstOrDefault(r => r.ValLossCommon < ngramBest);
            console.Line(lstmBest < ngramBest
                ? string.Create(CultureInfo.InvariantCulture, $"The LSTM wins by {ngramBest - lstmBest:F4} nats per character; it first beat the n-gram model's best at epoch {overtake!.Epoch}, after {overtake.Seconds:F1} s.")
                : string.Create(CultureInfo.InvariantCulture, $"The n-gram model wins by {lstmBest - ngramBest:F4} nats per character: the LSTM has not caught up after {lstm.Length} epochs ({lstm[^1].Seconds:F1} s)."));
        }

        console.Line($"Wrote {run.Metrics}, {run.Chart}, {run.Samples} and the checkpoints in {run.Path}.");
    }

    /// <summary>The tallies of an epoch stopped part-way, so a resumed epoch reports the same training loss.</summary>
    private sealed record PartialEpoch(long Step, double LossSum, int Batches, double Seconds)
    {
        public static PartialEpoch? Read(string path, long step)
        {
            if (!File.Exists(path))
            {
                return null;
            }

            var partial = JsonSerializer.Deserialize<PartialEpoch>(File.ReadAllText(path));
            return partial is not null && partial.Step == step ? partial : null;
        }

        public void Write(string path)
        {
            var json = JsonSerializer.Serialize(this);
            AtomicFile.Write(path, stream =>
            {
                using var writer = new StreamWriter(stream, leaveOpen: true);
                writer.Write(json);
            });
        }
    }
}
