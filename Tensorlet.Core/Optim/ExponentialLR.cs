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
    protected override double Next(double current, int epoch, double? metric) => current * Gamma;
}
