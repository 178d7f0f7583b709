using System.Globalization;
using System.Text;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// Trains the run's models one after the other (n-gram first) with the library's <see cref="Trainer"/>, writing
/// checkpoints, metrics.csv, loss.png and samples.txt after every epoch, and a checkpoint plus the partial epoch's
/// tallies when stopped mid-epoch. Everything is prepared and checked (sizes, memory) before the run folder is made.
/// </summary>
internal sealed class TrainingRunner(
    AppConsole console, TrainSettings settings, RunFolder run, ITrainingData data, Device device, int? stopAfterBatches, int? abortAfterBatches, CancellationToken cancellation)
{
    /// <summary>The exit code of a run stopped by Ctrl+C (after saving), as shells report SIGINT.</summary>
    public const int StoppedExitCode = 130;

    /// <summary>The exit code of a run ended by --abort-after-batches, as shells report SIGKILL.</summary>
    public const int KilledExitCode = 137;

    // The checkpoints EnsureResumable loaded, until Resume takes each; Run disposes any it leaves.
    private readonly Dictionary<ModelKind, Loaded> verified = [];
    private int batchesRun;

    /// <summary>Trains every model of the run that is not finished yet; returns the exit code.</summary>
    public int Run(bool resuming)
    {
        try
        {
            return TrainAll(resuming);
        }
        finally
        {
            foreach (var loaded in verified.Values)
            {
                loaded.Optimizer?.Dispose();
                loaded.Model?.Dispose();
            }

            verified.Clear();
        }
    }

    private int TrainAll(bool resuming)
    {
        var models = settings.Kinds.Select(Prepare).ToArray();
        Array.ForEach(models, m => RunSchedule.Check(settings, BatchesPerEpoch(m)));
        var summary = Summarize(models);

        // Stopped while the data loaded (Ctrl+C, SIGTERM): nothing trained yet, so nothing to save or make.
        if (cancellation.IsCancellationRequested)
        {
            console.Line(resuming ? "Stopped before training resumed; the run is as it was." : "Stopped before training began; no run folder was made.");
            return StoppedExitCode;
        }

        if (!resuming)
        {
            run = run.Create();
        }

        using var held = run.Lock();
        if (resuming)
        {
            run.RemoveLeftovers(settings.Kinds);
            Array.ForEach(models, EnsureResumable);
        }
        else
        {
            new RunConfig(settings, summary, device.Description, DateTimeOffset.Now).Write(run.Config);
        }

        console.Line($"Run folder: {run.Path}");
        console.Line(data.Describe());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        foreach (var model in models)
        {
            try
            {
                if (Train(model, resuming, stop))
                {
                    console.Line($"Stopped. The checkpoint is saved; continue with: train --resume {run.Path}");
                    return StoppedExitCode;
                }
            }
            catch (SimulatedKillException)
            {
                console.Line("Aborted without saving (--abort-after-batches).");
                return KilledExitCode;
            }
        }

        Report();
        return 0;
    }

    // The examples and spec of one model, its size and memory checked against the limits.
    private RunModel Prepare(ModelKind kind)
    {
        int characters = data.Vocabulary.Count;
        var examples = kind == ModelKind.Ngram ? data.NgramExamples(settings) : data.RecurrentExamples(settings);
        var spec = kind switch
        {
            ModelKind.Ngram => CharModelSpec.Ngram(settings.N, examples.Ngrams!.Count, characters, settings.NgramHidden, settings.NgramActivation),
            ModelKind.Gru => CharModelSpec.Gru(characters, settings.LstmHidden, settings.LstmLayers, settings.LstmDropout),
            ModelKind.Rnn => CharModelSpec.Rnn(characters, settings.LstmHidden, settings.LstmLayers, settings.LstmDropout),
            _ => CharModelSpec.Lstm(characters, settings.LstmHidden, settings.LstmLayers, settings.LstmDropout),
        };
        var model = new RunModel(kind, spec, examples.Ngrams, examples.Train, examples.Validation);
        TrainingMemory.Check(model.Spec, settings, model.Train, TrainingMemory.Available);
        return model;
    }

    // Trains one model to settings.Epochs; true when stopped early (the checkpoint is then saved).
    private bool Train(RunModel m, bool resuming, CancellationTokenSource stop)
    {
        ModelState? state = null;
        if (resuming)
        {
            state = Resume(m, out bool finished);
            if (finished)
            {
                return false;
            }
        }

        state ??= Fresh(m);
        using var loaded = new LoadedModel(state.Model, data.Vocabulary, m.Ngrams);
        using var optimizer = state.Optimizer;
        console.Line(string.Create(
            CultureInfo.InvariantCulture,
            $"{m.Name}: {Describe(m.Spec)}, {state.Model.Parameters.Length:N0} parameters, {m.Train.Count:N0} training examples, {m.Validation.Count:N0} validation examples"));

        using var loss = new CrossEntropyLoss();
        var trainer = new Trainer((Module)state.Model, loss, optimizer, new TrainerOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.Batch,
            Seed = settings.Seed,
            MaxBatchesPerEpoch = settings.MaxBatches,
            GradientClipNorm = settings.ClipNorm,
        });
        string sampleStart = SampleStart(m.Spec);
        if (settings.SampleLength > 0)
        {
            trainer.Sampler = () => loaded.Generate(sampleStart, settings.SampleLength, settings.SampleTemperature, settings.Seed);
        }

        // The schedule is the app's, stepped where the trainer would step it; a resumed run replays it to where it was.
        var schedule = RunSchedule.Create(settings, optimizer, BatchesPerEpoch(m));
        var history = EpochHistory.Read(run.History(m.Kind), state.Start?.Epoch ?? 0);
        schedule?.Replay(history.Losses, state.Start?.Step ?? 0);
        var tally = new EpochTally(state.Carried);

        // A stateful run must save the state it carries when it stops, which only a batch's handler sees (the trainer
        // forgets it on return): its trainer stops only when a handler says so, after taking that state.
        bool stateful = settings.Stateful && m.Kind != ModelKind.Ngram;
        using var trainerStop = stateful ? new CancellationTokenSource() : CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        if (stop.IsCancellationRequested)
        {
            trainerStop.Cancel();
        }

        RecurrentState? carried = null;
        long carriedStep = -1;
        double trainedRate = optimizer.LearningRate; // the last batch's, which a per-batch schedule has moved on from
        trainer.BatchCompleted += progress =>
        {
            tally.Add(progress.Loss);
            trainedRate = optimizer.LearningRate;
            if (schedule is { PerBatch: true })
            {
                schedule.Step(null);
            }

            ++batchesRun;
            if (batchesRun == abortAfterBatches)
            {
                throw new SimulatedKillException();
            }

            if (batchesRun >= stopAfterBatches)
            {
                stop.Cancel();
            }

            var position = new TrainingPosition(progress.Epoch - 1, progress.Batch, optimizer.StepCount);
            bool midEpoch = progress.Batch < progress.BatchesInEpoch;
            bool checkpoint = settings.CheckpointEvery is { } every && position.Step % every == 0 && midEpoch;
            if (stateful && (checkpoint || stop.IsCancellationRequested))
            {
                (carried, carriedStep) = (RecurrentState.Of(state.Model), position.Step);
            }

            if (checkpoint)
            {
                SaveMidEpoch(m, state, position, tally, carried);
            }

            if (stop.IsCancellationRequested)
            {
                trainerStop.Cancel();
            }
        };
        trainer.EpochCompleted += report =>
        {
            Record(m, state, report, tally, sampleStart, history, trainedRate);
            if (schedule is { PerBatch: false })
            {
                schedule.Step(report.Validation!.Loss);
            }
        };

        TrainingResult outcome;
        using (TrainingProgressView.Observe(console, m.Name, trainer))
        {
            outcome = trainer.Train(m.Train, m.Validation, state.Start, trainerStop.Token);
        }

        if (!outcome.Cancelled)
        {
            return false;
        }

        SaveMidEpoch(m, state, outcome.Position, tally, carriedStep == outcome.Position.Step ? carried : null);
        return true;
    }

    // A checkpoint inside an epoch: the model and optimizer, the carried state of a stateful run, the epoch's tallies.
    private void SaveMidEpoch(RunModel m, ModelState state, TrainingPosition position, EpochTally tally, RecurrentState? carried)
    {
        if (settings.Stateful && m.Kind != ModelKind.Ngram && position.BatchInEpoch > 0)
        {
            // Written before the checkpoint that needs it, under the checkpoint's step: a kill in between leaves the
            // previous checkpoint, which finds its own file.
            // Stopped before its first batch, a resumed run still has the file it started from.
            string path = run.CarriedState(m.Kind, position.Step);
            if (carried is not null)
            {
                carried.Save(path);
            }
            else if (!File.Exists(path))
            {
                throw new InvalidOperationException($"No carried state was taken at step {position.Step}.");
            }
        }

        Save(m, state, position);
        tally.Save(position.Step).Write(run.PartialEpoch(m.Kind));
    }

    // Batches the trainer runs per epoch.
    private int BatchesPerEpoch(RunModel m)
    {
        int batches = (m.Train.Count + settings.Batch - 1) / settings.Batch;
        return settings.MaxBatches is int max ? Math.Min(batches, max) : batches;
    }

    // A new model from the run's seed, or the --init-from checkpoint's weights.
    private ModelState Fresh(RunModel m)
    {
        var model = settings.InitFrom is { } path ? Initial(m, path) : m.Spec.Create(device, settings.Seed);
        return new ModelState(model, Optimizer(model), null, new PartialEpoch(0, 0, 0, 0));
    }

    // The --init-from checkpoint's model with the run's dropout; the run's data was read in its vocabulary.
    private ICharModel Initial(RunModel m, string path)
    {
        var checkpoint = ModelCheckpoint.Read(path, m.Kind);
        checkpoint.EnsureVocabulary(data.Vocabulary);
        if (checkpoint.Spec with { Dropout = m.Spec.Dropout } != m.Spec)
        {
            throw new CheckpointException($"{path} changed since the run started: it now holds {Describe(checkpoint.Spec)}, the run {Describe(m.Spec)}.");
        }

        return checkpoint.CreateModel(device, m.Spec.Dropout);
    }

    // The model and optimizer of the run's checkpoint; null when the model has not started training yet, or when it
    // has finished (then finished is set).
    private ModelState? Resume(RunModel m, out bool finished)
    {
        finished = false;
        string path = run.Checkpoint(m.Kind);

        // A process killed during a save leaves temporary and unnamed optimizer files; the pair itself is whole.
        ModelCheckpoint.RemoveLeftovers(path);
        ModelCheckpoint.RemoveLeftovers(run.Best(m.Kind));
        if (!File.Exists(path))
        {
            // Its first save never committed (EnsureResumable has ruled out a deleted checkpoint): the model starts
            // from scratch, and the rows its interrupted first epoch wrote are redone.
            RedoEpochsAfter(m, 0);
            return null;
        }

        var (start, model, optimizer) = verified.Remove(m.Kind, out var loaded) ? loaded : Load(m);
        MarkSaved(m.Kind);
        if (model is null || optimizer is null)
        {
            console.Line($"{m.Name}: already trained for {start.Epoch} epochs.");
            finished = true;
            return null;
        }

        if (settings.Stateful && start.BatchInEpoch > 0 && model.Kind != ModelKind.Ngram)
        {
            // The stream batches continue the state the stopped run carried; without it the resumed losses would differ.
            string statePath = run.CarriedState(m.Kind, start.Step);
            if (!File.Exists(statePath))
            {
                throw new CheckpointException($"{statePath} is missing: the checkpoint was saved in the middle of a stateful epoch and needs the recurrent state it carried.");
            }

            RecurrentState.Load(statePath, model, settings.Batch);
        }

        var rows = RedoEpochsAfter(m, start.Epoch);
        var carried = PartialEpoch.Read(run.PartialEpoch(m.Kind), start.Step)
            ?? new PartialEpoch(start.Step, 0, 0, rows.LastOrDefault(r => r.Model == m.Name && r.Epoch == start.Epoch)?.Seconds ?? 0);
        console.Line($"{m.Name}: resuming at epoch {start.Epoch + 1}, batch {start.BatchInEpoch + 1} (step {start.Step}).");
        return new ModelState(model, optimizer, start, carried);
    }

    // The model's checkpoint, checked against the run: its kind, vocabularies and spec.
    private ModelCheckpoint ReadCheckpoint(RunModel m)
    {
        string path = run.Checkpoint(m.Kind);
        var checkpoint = ModelCheckpoint.Read(path, m.Kind);
        checkpoint.EnsureVocabulary(data.Vocabulary);
        if (m.Ngrams is not null && checkpoint.Ngrams!.Serialize() != m.Ngrams.Serialize())
        {
            throw new CheckpointException($"{path} was trained on a different n-gram vocabulary ({checkpoint.Ngrams.Count} {checkpoint.Ngrams.NgramOrder}-grams) than the data gives ({m.Ngrams.Count}).");
        }

        if (checkpoint.Spec != m.Spec)
        {
            throw new CheckpointException($"{path} holds {Describe(checkpoint.Spec)}, but the run's config.json describes {Describe(m.Spec)}.");
        }

        return checkpoint;
    }

    // Drops the model's metrics.csv rows past epoch, which a kill between an epoch's row and its checkpoint leaves, so
    // they are redone; returns the rows kept.
    private List<MetricsRow> RedoEpochsAfter(RunModel m, int epoch)
    {
        var rows = MetricsRow.ReadAll(run.Metrics);
        if (rows.RemoveAll(r => r.Model == m.Name && r.Epoch > epoch) > 0)
        {
            MetricsRow.WriteAll(run.Metrics, rows);
        }

        return rows;
    }

    // Before anything trains: the model's checkpoint, when there is one, must fit the run; and when the run has
    // committed a checkpoint of this model (its saved mark, a partial epoch) or of one that comes after it, its
    // checkpoint must exist; retraining it from scratch would silently lose that training. Metrics rows prove nothing:
    // an epoch's row is written before its checkpoint, so a kill during the model's first save leaves a row and no
    // checkpoint, and that model rightly starts again from scratch.
    private void EnsureResumable(RunModel m)
    {
        var laterOrSame = settings.Kinds.SkipWhile(k => k != m.Kind).ToArray();
        bool started = File.Exists(run.PartialEpoch(m.Kind))
            || laterOrSame.Any(k => File.Exists(run.SavedMark(k)))
            || laterOrSame.Skip(1).Any(k => File.Exists(run.Checkpoint(k)));
        if (started && !File.Exists(run.Checkpoint(m.Kind)))
        {
            throw new CheckpointException(
                $"{run.Checkpoint(m.Kind)} is missing, but the run has already trained the {m.Name} model; restore the file, or train into a new run folder (train without --resume).");
        }

        // Every model's checkpoint is loaded before the first one trains, so a bad later one costs no training time;
        // Resume takes what was loaded here.
        if (File.Exists(run.Checkpoint(m.Kind)))
        {
            verified.Add(m.Kind, Load(m));
        }
    }

    // The model's checkpoint with its weights and optimizer state loaded; no model when it has finished training.
    private Loaded Load(RunModel m)
    {
        var checkpoint = ReadCheckpoint(m);
        if (checkpoint.Position.Epoch >= settings.Epochs)
        {
            return new Loaded(checkpoint.Position, null, null);
        }

        var model = checkpoint.CreateModel(device);
        IOptimizer? optimizer = null;
        try
        {
            optimizer = Optimizer(model);
            checkpoint.LoadOptimizerState(model, optimizer);

            // The state holds the rate the stopped run ended with. The replay starts from the base rate: a chainable
            // schedule (char-rnn, step, exponential, plateau) goes on from the optimizer's rate, as torch's does.
            optimizer.LearningRate = settings.LearningRate;
            return new Loaded(checkpoint.Position, model, optimizer);
        }
        catch
        {
            optimizer?.Dispose();
            model.Dispose();
            throw;
        }
    }

    private IOptimizer Optimizer(ICharModel model)
    {
        // A model rebuilt from a checkpoint gets seed 0; dropout masks must follow the run's seed to resume exactly.
        if (model is RnnCharModel recurrent)
        {
            recurrent.DropoutSeed = (ulong)settings.Seed;
        }

        return RunOptimizer.Create(settings, model.Parameters);
    }

    // After an epoch: metrics.csv, the checkpoint, samples.txt, loss.png, and one line on the console with the learning
    // rate of the epoch's last batch.
    private void Record(RunModel m, ModelState state, EpochReport report, EpochTally tally, string sampleStart, EpochHistory history, double learningRate)
    {
        var result = report.Validation!;
        double trainLoss = tally.MeanLoss;
        // On 20 Newsgroups both models predict positions n..99 of each sequence; a text has no such common positions,
        // and each model is scored (and charted) on every character it predicts.
        double common = settings.Text is null ? result.MeanLoss(settings.N, int.MaxValue) : result.Loss;
        var row = new MetricsRow(m.Name, report.Epoch, trainLoss, result.Loss, common, result.Loss / Math.Log(2), report.TargetsPerSecond, tally.Seconds);
        var rows = MetricsRow.ReadAll(run.Metrics);
        rows.RemoveAll(r => r.Model == m.Name && r.Epoch >= report.Epoch);
        rows.Add(row);
        MetricsRow.WriteAll(run.Metrics, rows);

        // The best model is saved before the checkpoint: a kill in between redoes this epoch, which saves it again.
        bool best = history.IsBest(result.Loss);
        history.Add(new EpochEntry(report.Epoch, result.Loss, learningRate));
        history.Write(run.History(m.Kind));
        if (best)
        {
            ModelCheckpoint.Save(run.Best(m.Kind), state.Model, m.Spec, data.Vocabulary, m.Ngrams, report.Position);
        }

        Save(m, state, report.Position);
        File.Delete(run.PartialEpoch(m.Kind));
        if (report.Sample is { } sample)
        {
            run.AppendSample($"[{m.Name} epoch {report.Epoch}, temperature {settings.SampleTemperature.ToString(CultureInfo.InvariantCulture)}] {sampleStart}{sample}");
        }

        TryChart(rows);
        console.Line(string.Create(
            CultureInfo.InvariantCulture,
            $"{m.Name} epoch {report.Epoch}/{settings.Epochs}: train {trainLoss:F4}  val {result.Loss:F4}{(settings.Text is null ? $" ({settings.N}..99: {common:F4})" : "")}  {row.ValBpc:F3} bits/char  {report.TargetsPerSecond:N0} chars/s  {row.Seconds:F1} s{(settings.Schedule == "none" ? "" : $"  lr {learningRate:G4}")}{(best ? "  (best)" : "")}"));
        if (report.Sample is { } text)
        {
            console.Line($"  \"{sampleStart}{text}\"");
        }

        tally.NextEpoch();
    }

    private void Save(RunModel m, ModelState state, TrainingPosition position)
    {
        ModelCheckpoint.Save(run.Checkpoint(m.Kind), state.Model, m.Spec, data.Vocabulary, m.Ngrams, position, state.Optimizer);
        MarkSaved(m.Kind);

        // Carried states of other checkpoints are no longer needed once this one is committed.
        string own = run.CarriedState(m.Kind, position.Step);
        foreach (var stale in run.CarriedStates(m.Kind).Where(f => Path.GetFullPath(f) != Path.GetFullPath(own) || position.BatchInEpoch == 0))
        {
            File.Delete(stale);
        }
    }

    // Marks the model's checkpoint as committed once (see RunFolder.SavedMark).
    private void MarkSaved(ModelKind kind)
    {
        string mark = run.SavedMark(kind);
        if (File.Exists(mark))
        {
            return;
        }

        string text = $"{Path.GetFileName(run.Checkpoint(kind))} was saved in this run; train --resume refuses the run without it.\n";
        AtomicFile.Write(mark, stream => stream.Write(Encoding.UTF8.GetBytes(text)));
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

        return data.HeldOutStart(needed);
    }

    private void TryChart(IReadOnlyList<MetricsRow> rows)
    {
        try
        {
            LossChart.Write(run.Chart, rows, data.ChartSubject);
        }
        catch (Exception e) when (e is IOException or TypeInitializationException or DllNotFoundException)
        {
            // The chart is a convenience; metrics.csv holds the same numbers.
            console.Warn($"could not draw {run.Chart}: {e.Message}");
        }
    }

    private DataSummary Summarize(IReadOnlyList<RunModel> models)
    {
        var ngram = models.FirstOrDefault(m => m.Kind == ModelKind.Ngram);
        return data.Summarize(ngram is null ? null : new ModelExamples(ngram.Ngrams, ngram.Train, ngram.Validation));
    }

    private static string Describe(CharModelSpec spec) => spec.Kind != ModelKind.Ngram
        ? string.Create(CultureInfo.InvariantCulture, $"{RunFolder.TitleOf(spec.Kind)} {spec.NumLayers}x{spec.HiddenSize}, dropout {spec.Dropout}")
        : string.Create(CultureInfo.InvariantCulture, $"n-gram MLP, n={spec.NgramOrder}, {spec.NgramVocabularySize:N0} n-grams, hidden {spec.HiddenSize} {TrainSettings.ActivationName(spec.Activation)}");

    // Which model wins on the positions both predict, and after how long.
    private void Report()
    {
        var rows = MetricsRow.ReadAll(run.Metrics);
        string recurrent = RunFolder.NameOf(settings.RecurrentKind);
        var ngram = rows.Where(r => r.Model == "ngram").ToArray();
        var lstm = rows.Where(r => r.Model == recurrent).ToArray();
        console.Line();
        if (settings.Text is not null)
        {
            // A text has no fixed positions that both models predict: each is scored on every character it predicts.
            console.Line("Validation loss on the held-out end of the text:");
            foreach (var model in new[] { ngram, lstm }.Where(m => m.Length > 0))
            {
                var best = model.MinBy(r => r.ValLossAll)!;
                console.Line(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {best.Model,-5} best {best.ValLossAll:F4} nats ({best.ValBpc:F3} bits/char) at epoch {best.Epoch}, after {best.Seconds:F1} s: {best.Model}.best.safetensors"));
            }

            console.Line($"Wrote {run.Metrics}, {run.Chart}, {run.Samples} and the checkpoints in {run.Path}.");
            return;
        }

        // Positions n..99 are where both models predict; a run of one model names the n-gram model's positions alone.
        console.Line((ngram.Length > 0, lstm.Length > 0) switch
        {
            (true, true) => $"Validation loss on positions {settings.N}..99, where both models predict:",
            (true, false) => $"Validation loss on positions {settings.N}..99, all that the n-gram model predicts:",
            _ => $"Validation loss on positions {settings.N}..99, those an n-gram model of n = {settings.N} would predict:",
        });
        foreach (var model in new[] { ngram, lstm }.Where(m => m.Length > 0))
        {
            var best = model.MinBy(r => r.ValLossCommon)!;
            string all = best.Model == recurrent ? string.Create(CultureInfo.InvariantCulture, $"; over all positions {best.ValLossAll:F4} nats ({best.ValBpc:F3} bits/char)") : "";
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
                ? string.Create(CultureInfo.InvariantCulture, $"The {recurrent.ToUpperInvariant()} wins by {ngramBest - lstmBest:F4} nats per character; it first beat the n-gram model's best at epoch {overtake!.Epoch}, after {overtake.Seconds:F1} s.")
                : string.Create(CultureInfo.InvariantCulture, $"The n-gram model wins by {lstmBest - ngramBest:F4} nats per character: the {recurrent.ToUpperInvariant()} has not caught up after {lstm.Length} epochs ({lstm[^1].Seconds:F1} s)."));
        }

        console.Line($"Wrote {run.Metrics}, {run.Chart}, {run.Samples} and the checkpoints in {run.Path}.");
    }

    /// <summary>One model of the run: its family, spec, n-grams (n-gram model only) and examples.</summary>
    private sealed record RunModel(ModelKind Kind, CharModelSpec Spec, NgramVocabulary? Ngrams, IBatchSource Train, IBatchSource Validation)
    {
        public string Name => RunFolder.NameOf(Kind);
    }

    /// <summary>A model being trained: its weights, optimizer, where it starts and the tallies carried into that epoch.</summary>
    private sealed record Loaded(TrainingPosition Position, ICharModel? Model, IOptimizer? Optimizer);

    private sealed record ModelState(ICharModel Model, IOptimizer Optimizer, TrainingPosition? Start, PartialEpoch Carried);
}

/// <summary>Ends a run at once, saving nothing more, as a killed process would (--abort-after-batches, for tests).</summary>
internal sealed class SimulatedKillException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SimulatedKillException()
        : base("Aborted without saving.")
    {
    }
}
