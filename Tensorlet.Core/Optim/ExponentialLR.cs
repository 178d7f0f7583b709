namespace Tensorlet.Optim;

/// <summary>torch.optim.lr_scheduler.ExponentialLR: the learning rate is multiplied by <see cref="Gamma"/> every epoch.</summary>
public sealed class ExponentialLR : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public ExponentialLR(IOptimizer optimizer, double gamma)
        : base(optimizer)
    {
        HyperparameterChecks.NonNegative(gamma, nameof(gamma));
        Gamma = gamma;
    }

    /// <summary>The decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        for (int g = 0; g < current.Length; g++)
        {
            next[g] = current[g] * Gamma;
        }
    }
}
