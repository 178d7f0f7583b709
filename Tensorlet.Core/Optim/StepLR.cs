using Tensorlet.Kernels;

namespace Tensorlet.Optim;

/// <summary>torch.optim.lr_scheduler.StepLR: the learning rate is multiplied by <see cref="Gamma"/> every <see cref="StepSize"/> epochs.</summary>
public sealed class StepLR : LearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    public StepLR(IOptimizer optimizer, int stepSize, double gamma = 0.1)
        : base(optimizer)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(stepSize);
        HyperparameterChecks.NonNegative(gamma, nameof(gamma));
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>The decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        bool decay = epoch % StepSize == 0;
        for (int g = 0; g < current.Length; g++)
        {
            next[g] = decay ? current[g] * Gamma : current[g];
        }
    }
}
