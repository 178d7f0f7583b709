using System.Globalization;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.lr_scheduler.ReduceLROnPlateau (mode "min", threshold mode "rel"): when the metric has not improved on
/// the best by a relative <see cref="Threshold"/> for more than <see cref="Patience"/> epochs, the learning rate is
/// multiplied by <see cref="Factor"/> (not below <see cref="MinLearningRate"/>), then <see cref="Cooldown"/> epochs pass
/// before counting again. With several parameter groups, every group's rate is reduced at once, each by the factor
/// (a group already at the floor, or within <see cref="Epsilon"/> of it, keeps its rate), as in PyTorch. As torch's, it
/// goes on from each group's current rate and neither reads nor records the optimizer's initial rates.
/// </summary>
public sealed class ReduceLROnPlateau : LearningRateSchedule
{
    private double best = double.PositiveInfinity;
    private int badEpochs;
    private int cooldownLeft;

    /// <summary>Creates the schedule with PyTorch's defaults.</summary>
    public ReduceLROnPlateau(IOptimizer optimizer, double factor = 0.1, int patience = 10, double threshold = 1e-4, int cooldown = 0, double minLearningRate = 0, double epsilon = 1e-8)
        : base(optimizer, usesInitialRates: false)
    {
        if (!(factor > 0 && factor < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), string.Create(CultureInfo.InvariantCulture, $"The factor must be in (0, 1); got {factor}."));
        }

        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
        Epsilon = epsilon;
    }

    /// <summary>The decay factor.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement tolerated.</summary>
    public int Patience { get; }

    /// <summary>The relative improvement that counts.</summary>
    public double Threshold { get; }

    /// <summary>Epochs after a decay before bad epochs count again.</summary>
    public int Cooldown { get; }

    /// <summary>The floor of the learning rate.</summary>
    public double MinLearningRate { get; }

    /// <summary>A decay smaller than this is skipped.</summary>
    public double Epsilon { get; }

    /// <inheritdoc/>
    public override bool NeedsMetric => true;

    /// <summary>Adds <c>best</c> (infinity before the first metric), <c>num_bad_epochs</c> and <c>cooldown_counter</c>.</summary>
    protected override void AddState(IDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        state["best"] = best;
        state["num_bad_epochs"] = badEpochs;
        state["cooldown_counter"] = cooldownLeft;
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        double savedBest = state["best"];
        if (double.IsNaN(savedBest))
        {
            throw new ArgumentException("best must be a number (infinity before the first metric); got NaN.", nameof(state));
        }

        int bad = WholeNumber(state, "num_bad_epochs");
        int cooldown = WholeNumber(state, "cooldown_counter");
        best = savedBest;
        badEpochs = bad;
        cooldownLeft = cooldown;
    }

    /// <summary>Counts the metric, then reduces every group's rate when it has not improved for more than <see cref="Patience"/> epochs.</summary>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        double value = metric ?? throw new ArgumentNullException(nameof(metric), "ReduceLROnPlateau.Step needs the metric (e.g. the validation loss).");
        if (value < best * (1 - Threshold))
        {
            best = value;
            badEpochs = 0;
        }
        else
        {
            badEpochs++;
        }

        if (cooldownLeft > 0)
        {
            cooldownLeft--;
            badEpochs = 0;
        }

        bool reduce = badEpochs > Patience;
        if (reduce)
        {
            cooldownLeft = Cooldown;
            badEpochs = 0;
        }

        for (int g = 0; g < current.Length; g++)
        {
            double reduced = Math.Max(current[g] * Factor, MinLearningRate);
            next[g] = reduce && current[g] - reduced > Epsilon ? reduced : current[g];
        }
    }
}
