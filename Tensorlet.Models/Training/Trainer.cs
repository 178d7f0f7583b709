using System.Diagnostics;
using System.Runtime.InteropServices;
using Tensorlet.Models.Modeling;
using Tensorlet.Nn;
using Tensorlet.Optim;

namespace Tensorlet.Models.Training;

/// <summary>
/// Trains a model with an optimizer (and an optional learning-rate schedule) on batches drawn in a seeded shuffle per
/// epoch, reports progress after every batch and scores after every epoch, and stops cleanly on cancellation or a
/// non-finite loss. Each epoch's order depends only on (seed, epoch), so a run resumed from a
/// <see cref="TrainingPosition"/> sees exactly the batches it would have seen.
/// <para>
/// Any <see cref="Module"/> trains with any loss, as a PyTorch loop does: a batch source yields inputs and targets
/// (<see cref="IBatchSource{TInput, TTarget}"/>: token ids or values in, class ids or values out), and per batch the
/// trainer zeroes the gradients, keys the dropout masks by the step, runs <c>loss.Forward(model.Forward(inputs),
/// targets)</c>, then <c>model.Backward(loss.Backward(), computeInputGradient: false)</c> (the inputs are data, whose
/// gradient nobody reads), clips the gradient norm if asked, and steps the optimizer and, when asked, the schedule. A
/// <c>CrossEntropyLoss</c> or <c>NllLoss</c> takes class ids (an
/// <see cref="IBatchSource"/> of token ids, or a <see cref="TensorBatchSource{TInput, TTarget}"/>); an <c>MseLoss</c>
/// takes values (a <see cref="TensorBatchSource{TInput, TTarget}"/> of floats). The char models are modules too,
/// trained with a <c>CrossEntropyLoss</c>; they key their dropout masks by their own <c>DropoutSeed</c> (which their checkpoint keeps),
/// any other module by <see cref="TrainerOptions.Seed"/>.
/// </para>
/// <para>
/// Modes follow PyTorch's loop, where <c>model.train()</c> is called once: a model in evaluation when training starts
/// (<see cref="Module.Eval"/> after sampling or scoring) is switched to training, and a module the caller put in evaluation
/// inside a model in training stays in evaluation for the whole run, as a frozen <see cref="BatchNorm1d"/> whose running
/// statistics must stay fixed needs (<c>bn.Eval()</c> and <c>bn.SetRequiresGradient(false)</c>). Validation switches the
/// model to evaluation and then gives every module back the mode it had.
/// </para>
/// <para>
/// Progress and scores count targets, the terms the loss averages over: class ids other than the loss's
/// <c>IgnoreIndex</c> for a <c>CrossEntropyLoss</c> or <c>NllLoss</c> (a char model's predicted characters, a
/// classifier's examples), values for an <c>MseLoss</c>. Validation with either reports the loss per target position
/// (the char models' positions in their sequence); with another loss, one mean over every target (each batch's loss
/// taken as the mean over its targets, or their sum for <c>Reduction.Sum</c>).
/// </para>
/// <para>
/// A training batch with no targets (every class id equal to the loss's <c>IgnoreIndex</c>) has no loss: its mean over
/// no targets is NaN, as in PyTorch, but that is no divergence. It trains nothing: no backward pass, no optimizer step
/// (so the <see cref="TrainingPosition.Step"/> does not advance), no step of a schedule stepped every batch, and no
/// <see cref="BatchCompleted"/>; it counts in no loss average and no target count, so the weights after it are those of
/// the same run without it (a stream source's recurrent state is still carried through its inputs). Validation likewise
/// skips ignored targets, so such a batch adds nothing to it.
/// </para>
/// <para>
/// A <see cref="StreamBatchSource"/> trains a model that holds a recurrent module (an <see cref="RnnBase"/>: LSTM or GRU)
/// statefully (truncated backpropagation through time): its batches are taken in order, one stream per batch row (the
/// batch size must be its stream count), and every recurrent module's state is carried from batch to batch with its
/// gradient cut, from zeros at the start of every epoch. A stream validation set is scored the same way. A run resumed
/// in the middle of an epoch continues from the state the model carries when training starts: give it the stopped
/// run's (<see cref="RnnBase.CarryFrom"/>) to continue exactly; zeros otherwise. A model with a bidirectional recurrent
/// module cannot carry its state, and is refused on a stream source.
/// </para>
/// </summary>
public sealed class Trainer
{
    private readonly Module module;
    private readonly object loss;
    private readonly IOptimizer optimizer;
    private readonly TrainerOptions options;
    private readonly LearningRateSchedule? schedule;
    private readonly ModuleModes modes;

    /// <summary>Trains any module with a loss over class ids, <paramref name="optimizer"/> and, optionally, a schedule.</summary>
    /// <param name="model">The model, built.</param>
    /// <param name="loss">The loss over the batch's class ids, e.g. <see cref="CrossEntropyLoss"/>.</param>
    /// <param name="optimizer">The optimizer over the model's parameters.</param>
    /// <param name="options">Epochs, batch size, seed, clipping.</param>
    /// <param name="schedule">Stepped after every epoch (with the validation loss, or the training loss without validation),
    /// or after every batch when <see cref="TrainerOptions.ScheduleEveryBatch"/>; null for a fixed learning rate.</param>
    public Trainer(Module model, ILoss<IndexTensor> loss, IOptimizer optimizer, TrainerOptions options, LearningRateSchedule? schedule = null)
        : this(model, (object)loss, optimizer, options, schedule)
    {
    }

    /// <summary>Trains any module with a loss over values, e.g. <see cref="MseLoss"/>; otherwise as the class-id form.</summary>
    /// <param name="model">The model, built.</param>
    /// <param name="loss">The loss over the batch's target values, e.g. <see cref="MseLoss"/>.</param>
    /// <param name="optimizer">The optimizer over the model's parameters.</param>
    /// <param name="options">Epochs, batch size, seed, clipping.</param>
    /// <param name="schedule">As in the class-id form; null for a fixed learning rate.</param>
    public Trainer(Module model, ILoss<Tensor> loss, IOptimizer optimizer, TrainerOptions options, LearningRateSchedule? schedule = null)
        : this(model, (object)loss, optimizer, options, schedule)
    {
    }

    private Trainer(Module model, object loss, IOptimizer optimizer, TrainerOptions options, LearningRateSchedule? schedule)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        // An optimizer or schedule made for another model trains nothing of this one, silently.
        if (!ReferenceEquals(optimizer.Parameters, model.Parameters))
        {
            throw new ArgumentException($"The {optimizer.GetType().Name} updates another model's parameters; make it from this model's Parameters.", nameof(optimizer));
        }

        if (schedule is not null && !ReferenceEquals(schedule.Optimizer, optimizer))
        {
            throw new ArgumentException($"The {schedule.GetType().Name} sets another optimizer's learning rate; make it from the optimizer given to the Trainer.", nameof(schedule));
        }

        if (schedule is not null && options.ScheduleEveryBatch && schedule.NeedsMetric)
        {
            throw new ArgumentException($"{schedule.GetType().Name} is stepped with a metric once per epoch; it cannot run every batch.", nameof(schedule));
        }

        module = model;
        this.loss = loss;
        this.optimizer = optimizer;
        this.options = options;
        this.schedule = schedule;
        modes = new ModuleModes(model);
    }

    /// <summary>Raised after every batch that trained: not after one with no targets, which takes no step.</summary>
    public event Action<BatchProgress>? BatchCompleted;

    /// <summary>Raised after every epoch, after validation; a handler may save a checkpoint.</summary>
    public event Action<EpochReport>? EpochCompleted;

    /// <summary>Makes the text sample shown after each epoch; null for none.</summary>
    public Func<string>? Sampler { get; set; }

    /// <summary>The examples of epoch <paramref name="epoch"/> (from 0), in training order.</summary>
    internal static int[] EpochOrder(int count, int seed, int epoch)
    {
        var order = InOrder(count);
        new Random(ShuffleSeed(seed, epoch)).Shuffle(order);
        return order;
    }

    // HashCode.Combine is seeded at random in every process, which made the order differ from run to run (and a
    // resumed run see other batches); a SplitMix64 mix of (seed, epoch) is the same in every process.
    private static int ShuffleSeed(int seed, int epoch)
    {
        ulong z = (((ulong)(uint)seed << 32) | (uint)epoch) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>
    /// Trains from <paramref name="start"/> (or the beginning) to <see cref="TrainerOptions.Epochs"/>; a model in
    /// evaluation is first switched to training, a module in evaluation inside a model in training stays there.
    /// </summary>
    /// <typeparam name="TInput">int for token ids, float for values; inferred from the sources.</typeparam>
    /// <typeparam name="TTarget">int for class ids, float for values: what the trainer's loss takes.</typeparam>
    /// <param name="train">The training examples, shuffled per epoch (a <see cref="StreamBatchSource"/> is taken in order, statefully).</param>
    /// <param name="validation">Scored after every epoch; null for none (as is <see cref="TrainerOptions.MaxValidationExamples"/> 0).
    /// A source with no examples is refused, as Keras and PyTorch Lightning object to empty validation data: it would
    /// score nothing, and the run would pass for one validated (with <see cref="TrainerOptions.MaxValidationExamples"/> 0,
    /// which asks for no validation, any source is taken).</param>
    /// <param name="start">Where a resumed run continues; null for the beginning.</param>
    /// <param name="cancellation">Stops after the current batch (during an epoch's validation, once it ends and the epoch is reported); the result says where.</param>
    /// <exception cref="ArgumentException">The training set is empty (or, with <see cref="TrainerOptions.DropLast"/>, smaller than one batch), its targets are not what the loss takes, the validation set is empty (and <see cref="TrainerOptions.MaxValidationExamples"/> is not 0), or <paramref name="start"/> is not at the optimizer's step.</exception>
    public TrainingResult Train<TInput, TTarget>(IBatchSource<TInput, TTarget> train, IBatchSource<TInput, TTarget>? validation, TrainingPosition? start = null, CancellationToken cancellation = default)
        where TInput : unmanaged
        where TTarget : unmanaged
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0)
        {
            throw new ArgumentException("The training set is empty.", nameof(train));
        }

        if (BatchesPerEpoch(train.Count) == 0)
        {
            throw new ArgumentException(
                $"TrainerOptions.DropLast skips a last batch smaller than the batch size, {options.BatchSize}, and the training set has only {train.Count} examples: no batch is left.",
                nameof(train));
        }

        if (validation is { Count: 0 } && options.MaxValidationExamples != 0)
        {
            throw new ArgumentException($"The validation source ({validation.GetType().Name}) has no examples; pass null for no validation.", nameof(validation));
        }

        BatchTensors.CheckLoss<TTarget>(loss, nameof(train));
        CheckLayout(train, nameof(train));
        CheckCarried(train, nameof(train));
        if (validation is not null)
        {
            CheckLayout(validation, nameof(validation));
            CheckCarried(validation, nameof(validation));
        }

        if (start is { } position)
        {
            CheckStart(position, BatchesPerEpoch(train.Count));
        }

        var stateful = StatefulModules(train);

        // A model the caller left in evaluation (after sampling or scoring) trains in training mode; a module inside a
        // model in training that the caller put in evaluation (a frozen BatchNorm1d) stays there for the whole run.
        if (!module.Training)
        {
            module.Train();
        }

        try
        {
            return TrainEpochs(train, validation, start, stateful, cancellation);
        }
        finally
        {
            CarryState(stateful, false);
        }
    }

    // A position no run can be at, or one whose step is not the optimizer's: the dropout masks (keyed by the step) and
    // Adam's bias correction (by its own count) would then follow two different runs, silently.
    private void CheckStart(TrainingPosition start, int batchesPerEpoch)
    {
        if (start.Epoch < 0 || start.BatchInEpoch < 0 || start.Step < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"A training position counts from 0; got epoch {start.Epoch}, batch {start.BatchInEpoch}, step {start.Step}.");
        }

        if (start.BatchInEpoch >= batchesPerEpoch)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"The start position is at batch {start.BatchInEpoch} of an epoch of {batchesPerEpoch} batches (counting from 0); an epoch's end is the next epoch's batch 0.");
        }

        if (start.Step != optimizer.StepCount)
        {
            throw new ArgumentException(
                $"The start position is at step {start.Step} but the {optimizer.GetType().Name} has taken {optimizer.StepCount}: load the optimizer state saved with the position (ModuleCheckpoint.Load with the optimizer), or start at step {optimizer.StepCount}.",
                nameof(start));
        }
    }

    private TrainingResult TrainEpochs<TInput, TTarget>(IBatchSource<TInput, TTarget> train, IBatchSource<TInput, TTarget>? validation, TrainingPosition? start, List<RnnBase>? stateful, CancellationToken cancellation)
        where TInput : unmanaged
        where TTarget : unmanaged
    {
        var position = start ?? new TrainingPosition(0, 0, optimizer.StepCount);
        var reports = new List<EpochReport>();
        using var step = new TrainingStep<TInput, TTarget>(module, loss, optimizer, train, options.BatchSize, options.GradientClipNorm, options.Seed);
        int batchesPerEpoch = BatchesPerEpoch(train.Count);

        for (int epoch = position.Epoch; epoch < options.Epochs; epoch++)
        {
            var order = stateful is null ? EpochOrder(train.Count, options.Seed, epoch) : InOrder(train.Count);
            int firstBatch = epoch == position.Epoch ? position.BatchInEpoch : 0;

            // An epoch starts from zeros; one resumed in its middle continues the state the model was given
            // (RnnBase.CarryFrom), or zeros.
            CarryState(stateful, true, reset: firstBatch == 0);
            double lossSum = 0;
            long targets = 0;
            int counted = 0;
            var clock = Stopwatch.StartNew();
            for (int batch = firstBatch; batch < batchesPerEpoch; batch++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    return new TrainingResult(position with { Epoch = epoch, BatchInEpoch = batch }, true, reports);
                }

                int from = batch * options.BatchSize;
                int n = Math.Min(options.BatchSize, train.Count - from);
                double loss = step.Run(order.AsSpan(from, n), position.Step + 1);

                // A batch with no targets took no step (see the class's remarks): its NaN mean is no divergence.
                if (step.Targets == 0)
                {
                    position = new TrainingPosition(epoch, batch + 1, position.Step);
                    continue;
                }

                if (!double.IsFinite(loss))
                {
                    throw new NonFiniteLossException(epoch + 1, batch + 1, loss);
                }

                if (options.ScheduleEveryBatch)
                {
                    schedule?.Step();
                }

                position = new TrainingPosition(epoch, batch + 1, position.Step + 1);

                // Reported per target, as validation is, whatever the loss's reduction.
                double batchLoss = BatchTensors.LossSum(this.loss, loss, step.Targets) / step.Targets;
                lossSum += batchLoss;
                targets += step.Targets;
                counted++;
                var elapsed = clock.Elapsed;
                BatchCompleted?.Invoke(new BatchProgress(epoch + 1, batch + 1, batchesPerEpoch, batchLoss, lossSum / counted, PerSecond(targets, elapsed), elapsed));
            }

            clock.Stop();
            var validationResult = validation is null || options.MaxValidationExamples == 0 ? null : Validate(validation);
            position = new TrainingPosition(epoch + 1, 0, position.Step);
            if (!options.ScheduleEveryBatch && schedule is not null)
            {
                schedule.Step(validationResult?.Loss ?? (counted == 0 ? null : lossSum / counted));
            }

            var report = new EpochReport(
                epoch + 1,
                counted == 0 ? double.NaN : lossSum / counted,
                validationResult,
                PerSecond(targets, clock.Elapsed),
                clock.Elapsed,
                Sampler?.Invoke(),
                position);
            reports.Add(report);
            EpochCompleted?.Invoke(report);
        }

        return new TrainingResult(position, false, reports);
    }

    private static double PerSecond(long count, TimeSpan elapsed) => count / Math.Max(elapsed.TotalSeconds, 1e-9);

    // Batches per epoch of a training set of count examples: the last batch may be short, unless DropLast skips it;
    // MaxBatchesPerEpoch caps them.
    private int BatchesPerEpoch(int count)
    {
        int batches = (int)(((long)count + (options.DropLast ? 0 : options.BatchSize - 1)) / options.BatchSize);
        return options.MaxBatchesPerEpoch is int max ? Math.Min(batches, max) : batches;
    }

    private static int[] InOrder(int count)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++)
        {
            order[i] = i;
        }

        return order;
    }

    // Sets every recurrent module to carry its state (or not) and, unless told not to, forgets the state it holds.
    private static void CarryState(List<RnnBase>? recurrent, bool carry, bool reset = true)
    {
        foreach (var rnn in recurrent ?? [])
        {
            rnn.CarryState = carry;
            if (reset)
            {
                rnn.ResetState();
            }
        }
    }

    // A source whose batches are time-major, [InputsPerExample, B] (every IBatchSource of token ids, unless it says
    // otherwise), would reach a batch-first recurrent module with batch and time swapped; no shape check downstream can
    // tell, since the loss's rows line up either way, so the pair is refused before training.
    private void CheckLayout<TInput, TTarget>(IBatchSource<TInput, TTarget> source, string name)
        where TInput : unmanaged
        where TTarget : unmanaged
    {
        int examples = source.InputsPerExample + 1; // not InputsPerExample, so the two layouts differ
        var shape = source.InputShape(examples);
        bool timeMajor = shape.Length == 2 && shape[0] == source.InputsPerExample && shape[1] == examples;
        var batchFirst = timeMajor ? RecurrentModules.Of(module).Find(r => r.BatchFirst) : null;
        if (batchFirst is not null)
        {
            throw new ArgumentException($"{source.GetType().Name} gives time-major batches [steps, batch], but the model's {batchFirst.GetType().Name} is batch-first: build it with batchFirst: false.", name);
        }
    }

    // A stream source carries every recurrent module's state from batch to batch, which a bidirectional module cannot
    // do (its reverse direction ends at each batch's first step): refused before training, as RnnBase.CarryState would
    // refuse it in the middle of the run.
    private void CheckCarried(object source, string name)
    {
        var bidirectional = source is StreamBatchSource ? RecurrentModules.Of(module).Find(r => r.Bidirectional) : null;
        if (bidirectional is not null)
        {
            throw new ArgumentException($"StreamBatchSource carries the recurrent state from batch to batch, but the model's {bidirectional.GetType().Name} is bidirectional, whose reverse direction ends at each batch's first step: train it on separate sequences (a SequenceBatchSource or WindowBatchSource).", name);
        }
    }

    // The recurrent modules whose state a stream source's batches carry, or null when the source is not one.
    private List<RnnBase>? StatefulModules(object train)
    {
        if (train is not StreamBatchSource streams)
        {
            return null;
        }

        if (streams.Streams != options.BatchSize)
        {
            throw new ArgumentException($"Stateful training takes one stream per batch row: the batch size is {options.BatchSize}, the source has {streams.Streams} streams.", nameof(train));
        }

        var recurrent = RecurrentModules.Of(module);
        return recurrent.Count > 0 ? recurrent : throw new ArgumentException("Stateful training carries a recurrent state: it needs a model with an LSTM or a GRU.", nameof(train));
    }

    // Scores the validation set; a stream set with the recurrent state carried from zeros through its batches in order.
    // The model is left stateless (the epoch's sample must not start from a carried state).
    private EvaluationResult Validate<TInput, TTarget>(IBatchSource<TInput, TTarget> validation)
        where TInput : unmanaged
        where TTarget : unmanaged
    {
        var recurrent = RecurrentModules.Of(module);
        CarryState(recurrent, validation is StreamBatchSource);
        try
        {
            int batchSize = validation is StreamBatchSource streams ? streams.Streams : options.BatchSize;
            return ValidateModule(validation, batchSize);
        }
        finally
        {
            CarryState(recurrent, false);
        }
    }

    private EvaluationResult ValidateModule<TInput, TTarget>(IBatchSource<TInput, TTarget> validation, int batchSize)
        where TInput : unmanaged
        where TTarget : unmanaged
    {
        int total = Math.Min(validation.Count, options.MaxValidationExamples ?? int.MaxValue);
        using var buffers = new BatchBuffers<TInput, TTarget>(module.Device, validation, Math.Max(1, Math.Min(batchSize, total)));
        var examples = new int[buffers.BatchSize];
        var tally = new PositionLosses();
        var classRows = loss as ClassIdLoss;
        var rowLosses = new float[classRows is null ? 0 : buffers.RowCapacity];
        modes.Eval();
        try
        {
            for (int from = 0; from < total; from += buffers.BatchSize)
            {
                int n = Math.Min(buffers.BatchSize, total - from);
                for (int i = 0; i < n; i++)
                {
                    examples[i] = from + i;
                }

                var (inputs, targets) = buffers.Load(examples.AsSpan(0, n));
                var prediction = BatchTensors.Forward(module, buffers.Shaped(inputs, n));
                double value = BatchTensors.LossForward(loss, prediction, buffers.TargetsFor(targets, prediction));
                if (classRows is null)
                {
                    int targetCount = BatchTensors.TargetCount(loss, buffers.LoadedTargets.Length);
                    tally.Add(0, BatchTensors.LossSum(loss, value, targetCount), targetCount);
                    continue;
                }

                // Every row's loss at its position in its sequence, but for rows whose target is ignored.
                int rows = n * validation.RowsPerExample;
                var losses = rowLosses.AsSpan(0, rows);
                classRows.RowLosses.CopyTo(losses);
                var classIds = MemoryMarshal.Cast<TTarget, int>(buffers.LoadedTargets);
                for (int r = 0; r < rows; r++)
                {
                    if (classIds[r] != classRows.IgnoreIndex)
                    {
                        tally.Add(buffers.Positions[r], losses[r], 1);
                    }
                }
            }
        }
        finally
        {
            modes.Restore();
        }

        return tally.Result();
    }
}
