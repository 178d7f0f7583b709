using System.Globalization;
using Tensorlet.Optim;

namespace Tensorlet.Samples.CharPredict;

/// <summary>
/// The run's learning-rate schedule (--schedule, --lr-decay and their parameters), built on the library's schedules
/// and stepped by the app where the trainer would step it: after every batch (warm-up + cosine) or after every epoch
/// with its validation loss. A resumed run replays it from the start, so the learning rate continues exactly.
/// </summary>
internal sealed class RunSchedule
{
    private readonly LearningRateSchedule schedule;

    private RunSchedule(LearningRateSchedule schedule, bool perBatch)
    {
        this.schedule = schedule;
        PerBatch = perBatch;
    }

    /// <summary>Whether the schedule steps after every batch rather than every epoch.</summary>
    public bool PerBatch { get; }

    /// <summary>The learning rate now.</summary>
    public double LearningRate => schedule.LearningRate;

    /// <summary>The schedule of <paramref name="settings"/> over <paramref name="optimizer"/>; null for a fixed learning rate.</summary>
    /// <exception cref="ArgumentException">The schedule's parameters do not fit the run (see <see cref="Check"/>).</exception>
    public static RunSchedule? Create(TrainSettings settings, IOptimizer optimizer, int batchesPerEpoch) => settings.Schedule switch
    {
        "none" => null,
        "char-rnn" => new(new CharRnnDecay(optimizer, settings.LrDecay, settings.LrDecayAfter), false),
        "step" => new(new StepLR(optimizer, settings.LrStepSize, settings.LrDecay), false),
        "exponential" => new(new ExponentialLR(optimizer, settings.LrDecay), false),
        "cosine" => new(new CosineAnnealingLR(optimizer, settings.Epochs), false),
        "plateau" => new(new ReduceLROnPlateau(optimizer, settings.LrDecay, settings.LrPatience), false),
        "warmup-cosine" => new(new WarmupCosineLR(optimizer, settings.WarmupSteps, TotalSteps(settings, batchesPerEpoch)), true),
        _ => throw new ArgumentException($"Unknown schedule '{settings.Schedule}'; use {string.Join(", ", TrainSettings.Schedules)}."),
    };

    /// <summary>Checks, before anything is made, that the schedule fits a run of <paramref name="batchesPerEpoch"/> batches per epoch.</summary>
    /// <exception cref="ArgumentException">It does not.</exception>
    public static void Check(TrainSettings settings, int batchesPerEpoch)
    {
        if (settings.Schedule == "warmup-cosine")
        {
            _ = TotalSteps(settings, batchesPerEpoch); // the run's batches must fit an int
            if (WarmupError(settings.WarmupSteps, settings.Epochs, batchesPerEpoch, atMost: false) is { } error)
            {
                throw new ArgumentException(error);
            }
        }
    }

    /// <summary>
    /// Why a warm-up of <paramref name="warmupSteps"/> batches does not fit <paramref name="epochs"/> epochs of
    /// <paramref name="batchesPerEpoch"/> (<paramref name="atMost"/>: at most that many, --max-batches before the data is
    /// read): it leaves no batch to anneal. Null when it fits.
    /// </summary>
    public static string? WarmupError(int warmupSteps, int epochs, int batchesPerEpoch, bool atMost)
    {
        long total = (long)epochs * batchesPerEpoch;
        return warmupSteps < total ? null : string.Create(
            CultureInfo.InvariantCulture,
            $"--warmup-steps {warmupSteps} leaves no batch to anneal: the run has {(atMost ? "at most " : "")}{total} batches ({epochs} epochs of {(atMost ? "at most --max-batches " : "")}{batchesPerEpoch}).");
    }

    /// <summary>Steps once: after a batch (<paramref name="metric"/> null) or after an epoch with its validation loss.</summary>
    public void Step(double? metric) => schedule.Step(metric);

    /// <summary>
    /// Brings a new schedule to where the stopped run's was: one step per finished epoch with its validation loss
    /// (<paramref name="epochLosses"/>), or one per batch trained (<paramref name="steps"/>).
    /// </summary>
    public void Replay(IReadOnlyList<double> epochLosses, long steps)
    {
        if (PerBatch)
        {
            for (long i = 0; i < steps; i++)
            {
                schedule.Step();
            }

            return;
        }

        foreach (var loss in epochLosses)
        {
            schedule.Step(loss);
        }
    }

    // The cosine ends at the run's last batch; a resume that adds epochs stretches it.
    private static int TotalSteps(TrainSettings settings, int batchesPerEpoch)
    {
        long total = (long)settings.Epochs * batchesPerEpoch;
        return total <= int.MaxValue ? (int)total
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"warmup-cosine counts batches in an int; {settings.Epochs} epochs of {batchesPerEpoch} batches are {total}."));
    }
}

/// <summary>
/// char-rnn's learning-rate decay: after every epoch from <see cref="After"/> on, the learning rate is multiplied by
/// <see cref="Rate"/> (train.lua: <c>if epoch &gt;= learning_rate_decay_after then lr = lr * learning_rate_decay</c>,
/// at the end of each epoch). So epochs 1..After run at the base rate and epoch e &gt; After at base·Rate^(e − After).
/// </summary>
internal sealed class CharRnnDecay(IOptimizer optimizer, double rate, int after) : LearningRateSchedule(optimizer)
{
    /// <summary>The factor applied after each epoch from <see cref="After"/> on.</summary>
    public double Rate { get; } = rate;

    /// <summary>The first epoch after which the rate decays.</summary>
    public int After { get; } = after;

    /// <inheritdoc/>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        for (int g = 0; g < current.Length; g++)
        {
            next[g] = epoch >= After ? current[g] * Rate : current[g];
        }
    }
}
