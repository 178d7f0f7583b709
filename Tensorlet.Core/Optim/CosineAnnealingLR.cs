using Tensorlet.Kernels;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.lr_scheduler.CosineAnnealingLR in its chainable form (torch's <c>get_lr</c>, which its <c>step()</c>
/// uses): each epoch scales the distance of the current rate from <see cref="EtaMin"/> by the ratio of consecutive
/// cosines, so the rate follows η_min + (base − η_min)·½(1 + cos(π·e/<see cref="TMax"/>)) from its base down to
/// η_min at epoch <see cref="TMax"/>. Past it the rate rises again, back to the base at 2·T_max, and keeps oscillating
/// with period 2·T_max, as torch's does (the epoch after each minimum adds (base − η_min)·½(1 − cos(π/T_max)), torch's
/// step out of the minimum). Being chainable, it goes on from a rate set by hand or by another schedule, as torch's.
/// Each parameter group follows it from its own base.
/// </summary>
public sealed class CosineAnnealingLR : LearningRateSchedule
{
    /// <summary>Creates the schedule; epoch 0 keeps each group's rate.</summary>
    /// <param name="optimizer">The optimizer whose rates are set.</param>
    /// <param name="tMax">Epochs from the base rate down to <paramref name="etaMin"/> (torch's <c>T_max</c>); at least 1.</param>
    /// <param name="etaMin">The lowest rate (torch's <c>eta_min</c>): finite and at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tMax"/> is below 1 (torch's would divide by 0 at the first step), or <paramref name="etaMin"/> is negative or not finite; the optimizer is left as it was.</exception>
    public CosineAnnealingLR(IOptimizer optimizer, int tMax, double etaMin = 0)
        : base(Checked(optimizer, tMax, etaMin))
    {
        TMax = tMax;
        EtaMin = etaMin;
    }

    /// <summary>Epochs from the base rate to <see cref="EtaMin"/>: half the period.</summary>
    public int TMax { get; }

    /// <summary>The lowest rate.</summary>
    public double EtaMin { get; }

    // Before the base records any initial rate: a refused schedule leaves the optimizer as it was.
    private static IOptimizer Checked(IOptimizer optimizer, int tMax, double etaMin)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(tMax);
        HyperparameterChecks.NonNegative(etaMin, nameof(etaMin));
        return optimizer;
    }

    /// <summary>Each group's rate for <paramref name="epoch"/> from its current rate, in torch's order of operations.</summary>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        // Right after a minimum (epoch T_max + 1, 3·T_max + 1, ...) the ratio of cosines would divide by 1 + cos(π) = 0,
        // and torch steps up from the minimum instead. In long, as torch's Python ints, so 2·T_max cannot overflow.
        if (((long)epoch - 1 - TMax) % (2L * TMax) == 0)
        {
            // (base − η_min)·(1 − cos(π/T_max))/2: halving is exact, so this is torch's rounding.
            double up = (1 - Math.Cos(Math.PI / TMax)) / 2;
            for (int g = 0; g < current.Length; g++)
            {
                next[g] = current[g] + ((BaseLearningRates[g] - EtaMin) * up);
            }

            return;
        }

        double ratio = (1 + Math.Cos(Math.PI * epoch / TMax)) / (1 + Math.Cos(Math.PI * (epoch - 1) / TMax));
        for (int g = 0; g < current.Length; g++)
        {
            next[g] = (ratio * (current[g] - EtaMin)) + EtaMin;
        }
    }
}
