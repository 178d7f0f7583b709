using System.Globalization;
using Tensorlet.Kernels;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.lr_scheduler.LinearLR in its chainable form (torch's <c>get_lr</c>, which its <c>step()</c> uses): the
/// rate is scaled by a factor that goes linearly from <see cref="StartFactor"/> at epoch 0 (applied when the schedule is
/// made) to <see cref="EndFactor"/> at epoch <see cref="TotalIters"/>, and stays there. Each step scales the current
/// rate by the ratio of consecutive factors, so it goes on from a rate set by hand or by another schedule, as torch's;
/// epoch 0 too scales each group's rate as the optimizer has it then (torch's <c>group['lr']</c>): its base, unless
/// something set it since the first schedule was made.
/// </summary>
public sealed class LinearLR : LearningRateSchedule
{
    /// <summary>Creates the schedule and applies epoch 0's rate, each group's times <paramref name="startFactor"/>.</summary>
    /// <param name="optimizer">The optimizer whose rates are set.</param>
    /// <param name="startFactor">The factor at epoch 0, in (0, 1] as torch checks it.</param>
    /// <param name="endFactor">The factor from epoch <paramref name="totalIters"/> on, in [0, 1] as torch checks it.</param>
    /// <param name="totalIters">The epoch at which the factor reaches <paramref name="endFactor"/>; at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A factor is outside its range (NaN included), or <paramref name="totalIters"/> is negative; the optimizer is left as it was.</exception>
    public LinearLR(IOptimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5)
        : base(Checked(optimizer, startFactor, endFactor, totalIters))
    {
        StartFactor = startFactor;
        EndFactor = endFactor;
        TotalIters = totalIters;
        ApplyEpochZeroFromCurrentRates();
    }

    /// <summary>The factor at epoch 0.</summary>
    public double StartFactor { get; }

    /// <summary>The factor from <see cref="TotalIters"/> on.</summary>
    public double EndFactor { get; }

    /// <summary>The epoch at which the factor reaches <see cref="EndFactor"/>.</summary>
    public int TotalIters { get; }

    // Before the base records any initial rate, as torch checks before its base class runs: a refused schedule leaves
    // the optimizer as it was.
    private static IOptimizer Checked(IOptimizer optimizer, double startFactor, double endFactor, int totalIters)
    {
        if (!(startFactor > 0 && startFactor <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(startFactor), string.Create(CultureInfo.InvariantCulture, $"startFactor must be in (0, 1]; got {startFactor}."));
        }

        if (!(endFactor >= 0 && endFactor <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(endFactor), string.Create(CultureInfo.InvariantCulture, $"endFactor must be in [0, 1]; got {endFactor}."));
        }

        ArgumentChecks.ThrowIfNegative(totalIters);
        return optimizer;
    }

    /// <summary>Each group's rate for <paramref name="epoch"/> from its current rate, in torch's order of operations.</summary>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        // factor(e)/factor(e − 1) = 1 + (end − start)/(T·start + (e − 1)·(end − start)); the denominator is
        // start·(T − e + 1) + end·(e − 1), positive for 1 ≤ e ≤ T as start > 0.
        double factor = epoch == 0 ? StartFactor
            : epoch > TotalIters ? 1
            : 1.0 + ((EndFactor - StartFactor) / ((TotalIters * StartFactor) + ((epoch - 1) * (EndFactor - StartFactor))));
        for (int g = 0; g < current.Length; g++)
        {
            next[g] = current[g] * factor;
        }
    }
}
