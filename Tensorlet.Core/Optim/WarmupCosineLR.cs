using Tensorlet.Kernels;

namespace Tensorlet.Optim;

/// <summary>
/// Linear warm-up then cosine annealing, as transformers' get_cosine_schedule_with_warmup (a torch LambdaLR):
/// lr = base·e/W for epoch e &lt; W, then base·½(1 + cos(π·(e − W)/(E − W))) down to 0 at E = <see cref="TotalSteps"/>.
/// Past E the same formula goes on, so the rate rises again, as in transformers and torch's CosineAnnealingLR: make E
/// the number of steps the run takes. Usually stepped after every batch. Each parameter group follows it from its own base.
/// </summary>
public sealed class WarmupCosineLR : LearningRateSchedule
{
    /// <summary>Creates the schedule and applies epoch 0's rate (0 when there is a warm-up).</summary>
    public WarmupCosineLR(IOptimizer optimizer, int warmupSteps, int totalSteps)
        : base(optimizer)
    {
        ArgumentChecks.ThrowIfNegative(warmupSteps);
        if (totalSteps <= warmupSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(totalSteps), $"The total steps must exceed the warm-up steps ({warmupSteps}); got {totalSteps}.");
        }

        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        ApplyEpochZero();
    }

    /// <summary>W.</summary>
    public int WarmupSteps { get; }

    /// <summary>E.</summary>
    public int TotalSteps { get; }

    /// <summary>Each group's rate for <paramref name="epoch"/>: its base rate times the schedule's factor (torch's LambdaLR).</summary>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        double factor;
        if (epoch < WarmupSteps)
        {
            factor = (double)epoch / Math.Max(1, WarmupSteps);
        }
        else
        {
            double progress = (double)(epoch - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
            factor = Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
        }

        for (int g = 0; g < next.Length; g++)
        {
            next[g] = BaseLearningRates[g] * factor;
        }
    }
}
