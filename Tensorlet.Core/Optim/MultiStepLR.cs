using System.Globalization;

namespace Tensorlet.Optim;

/// <summary>
/// torch.optim.lr_scheduler.MultiStepLR: at each milestone epoch the learning rate is multiplied by
/// <see cref="Gamma"/>, once for every time that epoch is among the milestones (torch's <c>Counter</c>), so a repeated
/// milestone decays by γ². The milestones may be given in any order. Being chainable, it goes on from a rate set by hand
/// or by another schedule, as torch's. Each parameter group follows it from its own rate.
/// </summary>
public sealed class MultiStepLR : LearningRateSchedule
{
    private readonly Dictionary<int, int> decays = [];

    /// <summary>Creates the schedule; epoch 0 keeps each group's rate.</summary>
    /// <param name="optimizer">The optimizer whose rates are set.</param>
    /// <param name="milestones">The epochs after whose step the rate decays, each at least 1, in any order, repeats counted.</param>
    /// <param name="gamma">The decay factor: finite and at least 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A milestone is below 1 (torch would decay at creation for 0 and never for a negative one), or <paramref name="gamma"/> is negative or not finite; the optimizer is left as it was.</exception>
    public MultiStepLR(IOptimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1)
        : base(Checked(optimizer, milestones, gamma, out int[] sorted))
    {
        foreach (int milestone in sorted)
        {
            decays[milestone] = decays.GetValueOrDefault(milestone) + 1;
        }

        Milestones = sorted.AsReadOnly();
        Gamma = gamma;
    }

    /// <summary>The milestones in ascending order, a repeated one as often as it was given.</summary>
    public IReadOnlyList<int> Milestones { get; }

    /// <summary>The decay factor.</summary>
    public double Gamma { get; }

    // Before the base records any initial rate: a refused schedule leaves the optimizer as it was.
    private static IOptimizer Checked(IOptimizer optimizer, IEnumerable<int> milestones, double gamma, out int[] sorted)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        HyperparameterChecks.NonNegative(gamma, nameof(gamma));
        sorted = [.. milestones.Order()];
        if (sorted.Length > 0 && sorted[0] < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(milestones), string.Create(CultureInfo.InvariantCulture, $"milestones must be epochs of at least 1; got {sorted[0]}."));
        }

        return optimizer;
    }

    /// <inheritdoc/>
    protected override void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next)
    {
        if (!decays.TryGetValue(epoch, out int count))
        {
            current.CopyTo(next);
            return;
        }

        double factor = Math.Pow(Gamma, count); // torch's lr * gamma ** count: the power first
        for (int g = 0; g < current.Length; g++)
        {
            next[g] = current[g] * factor;
        }
    }
}
