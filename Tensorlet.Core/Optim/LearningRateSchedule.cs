using System.Globalization;

namespace Tensorlet.Optim;

/// <summary>
/// A learning-rate schedule as torch.optim.lr_scheduler: it sets the optimizer's learning rate on creation (epoch 0)
/// and after every <see cref="Step"/>, computing in double as PyTorch does in Python. With several parameter groups it
/// sets each group's, from that group's own base rate (torch's <c>base_lrs</c>): a StepLR scales every group by the same
/// factor.
/// </summary>
public abstract class LearningRateSchedule
{
    private readonly double[] baseLearningRates;
    private readonly double[] learningRates;
    private readonly double[] currentLearningRates;
    private readonly double[] nextLearningRates;

    /// <summary>
    /// Takes each parameter group's initial learning rate as its base, as torch's schedulers take <c>initial_lr</c>: a
    /// group without one (no schedule was made on the optimizer, and no state loaded) records its current rate as it.
    /// So a second schedule on the optimizer, or one made after a state was loaded, starts from the same base.
    /// </summary>
    protected LearningRateSchedule(IOptimizer optimizer)
        : this(optimizer, usesInitialRates: true)
    {
    }

    /// <summary>
    /// Without <paramref name="usesInitialRates"/> (torch's ReduceLROnPlateau, which is no <c>_LRScheduler</c>), each
    /// group's current rate is its base and no initial rate is recorded.
    /// </summary>
    private protected LearningRateSchedule(IOptimizer optimizer, bool usesInitialRates)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        int groups = optimizer.GroupCount;
        baseLearningRates = new double[groups];
        learningRates = new double[groups];
        for (int g = 0; g < groups; g++)
        {
            float rate = optimizer.GetLearningRate(g);
            learningRates[g] = rate; // until a Step, or ApplyEpochZero, the rate the optimizer has (torch's epoch 0 of a chainable schedule)
            if (usesInitialRates)
            {
                // As torch's group.setdefault("initial_lr", group["lr"]).
                if (optimizer.GetInitialLearningRate(g) is { } initial)
                {
                    rate = initial;
                }
                else
                {
                    optimizer.SetInitialLearningRate(g, rate);
                }
            }

            baseLearningRates[g] = rate;
        }

        currentLearningRates = new double[groups];
        nextLearningRates = new double[groups];
        BaseLearningRates = baseLearningRates.AsReadOnly();
        LearningRates = learningRates.AsReadOnly();
    }

    /// <summary>The optimizer whose learning rate is set.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The base learning rate of the first group (see <see cref="BaseLearningRates"/>).</summary>
    public double BaseLearningRate => baseLearningRates[0];

    /// <summary>The current learning rate, in double (the first group's).</summary>
    public double LearningRate => learningRates[0];

    /// <summary>Each parameter group's base learning rate, as torch's <c>base_lrs</c>: its initial rate (<see cref="IOptimizer.GetInitialLearningRate"/>), or its rate when the schedule was created where it had none.</summary>
    public IReadOnlyList<double> BaseLearningRates { get; }

    /// <summary>Each parameter group's current learning rate, in double, as torch's <c>get_last_lr()</c>.</summary>
    public IReadOnlyList<double> LearningRates { get; }

    /// <summary>The number of <see cref="Step"/> calls so far (PyTorch's last_epoch).</summary>
    public int Epoch { get; private set; }

    /// <summary>Whether <see cref="Step"/> needs a metric (ReduceLROnPlateau).</summary>
    public virtual bool NeedsMetric => false;

    /// <summary>
    /// Advances one epoch (or step) and sets each parameter group's new learning rate; <paramref name="metric"/> is read
    /// only by metric-driven schedules. As in PyTorch, a chainable schedule goes on from the optimizer's rate: when
    /// something else set a group's since this schedule's last step (another schedule on the same optimizer, or a hand),
    /// from that rate.
    /// </summary>
    public void Step(double? metric = null)
    {
        for (int g = 0; g < learningRates.Length; g++)
        {
            // The optimizer holds a float; while it still holds this schedule's rate, the double goes on unrounded.
            float held = Optimizer.GetLearningRate(g);
            currentLearningRates[g] = held == (float)learningRates[g] ? learningRates[g] : held;
        }

        // The next rates first: a step refused (ReduceLROnPlateau without its metric) leaves the epoch as it was.
        Next(Epoch + 1, metric, currentLearningRates, nextLearningRates);
        Epoch++;
        Apply(nextLearningRates);
    }

    /// <summary>
    /// The schedule's state, as torch's <c>scheduler.state_dict()</c> holds it: <c>last_epoch</c>, <c>base_lr</c> and
    /// <c>last_lr</c> (torch's <c>base_lrs</c> and <c>_last_lr</c>, for the first parameter group; group g &gt; 0's under
    /// <c>base_lr.g</c> and <c>last_lr.g</c>), and a schedule's own counters under torch's names (ReduceLROnPlateau's
    /// <c>best</c>, <c>num_bad_epochs</c>, <c>cooldown_counter</c>). Its settings are not in it: a schedule made with
    /// the same arguments, over an optimizer with as many groups, takes it.
    /// </summary>
    public IReadOnlyDictionary<string, double> StateDict()
    {
        var state = new Dictionary<string, double> { ["last_epoch"] = Epoch };
        for (int g = 0; g < learningRates.Length; g++)
        {
            state[GroupKey("base_lr", g)] = baseLearningRates[g];
            state[GroupKey("last_lr", g)] = learningRates[g];
        }

        AddState(state);
        return state;
    }

    /// <summary>
    /// Restores a state from <see cref="StateDict"/> and sets each group's learning rate to its <c>last_lr</c>, so a
    /// resumed run's schedule continues exactly, whatever rates the optimizer was made with (<c>base_lr</c> is restored
    /// too). Every key and value is checked first: on an error nothing changes.
    /// </summary>
    /// <exception cref="ArgumentException">A key is missing or unknown (a state of another number of parameter groups has other keys), or a value is not one the schedule can hold.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var expected = StateDict().Keys.ToHashSet();
        var missing = expected.Where(k => !state.ContainsKey(k)).ToList();
        var unknown = state.Keys.Where(k => !expected.Contains(k)).ToList();
        if (missing.Count > 0 || unknown.Count > 0)
        {
            throw new ArgumentException(
                $"A {GetType().Name} state has {string.Join(", ", expected.Order(StringComparer.Ordinal))}; "
                + (missing.Count > 0 ? $"missing {string.Join(", ", missing)}" : $"unknown {string.Join(", ", unknown)}") + ".",
                nameof(state));
        }

        int epoch = WholeNumber(state, "last_epoch");
        var saved = new double[learningRates.Length];
        for (int g = 0; g < saved.Length; g++)
        {
            HyperparameterChecks.NonNegative(state[GroupKey("base_lr", g)], GroupKey("base_lr", g));
            HyperparameterChecks.NonNegative(saved[g] = state[GroupKey("last_lr", g)], GroupKey("last_lr", g));
        }

        LoadState(state);
        Epoch = epoch;
        for (int g = 0; g < saved.Length; g++)
        {
            baseLearningRates[g] = state[GroupKey("base_lr", g)];
        }

        Apply(saved);
    }

    /// <summary>Adds the schedule's own counters to <paramref name="state"/> under PyTorch's names; the base has none.</summary>
    protected virtual void AddState(IDictionary<string, double> state)
    {
    }

    /// <summary>
    /// Restores the counters <see cref="AddState"/> wrote; every value is checked before any is set (throw
    /// <see cref="ArgumentException"/> and change nothing). The keys are there: the caller checked them.
    /// </summary>
    protected virtual void LoadState(IReadOnlyDictionary<string, double> state)
    {
    }

    /// <summary><paramref name="state"/>[<paramref name="key"/>] as a count: a whole number from 0 to int.MaxValue.</summary>
    /// <exception cref="ArgumentException">It is not one.</exception>
    protected static int WholeNumber(IReadOnlyDictionary<string, double> state, string key)
    {
        ArgumentNullException.ThrowIfNull(state);
        double value = state[key];
        if (!(value >= 0 && value <= int.MaxValue) || value != Math.Floor(value))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{key} must be a whole number from 0 to {int.MaxValue}; got {value}."), nameof(state));
        }

        return (int)value;
    }

    /// <summary>
    /// Writes each parameter group's learning rate for <paramref name="epoch"/> to <paramref name="next"/>, as torch's
    /// <c>get_lr()</c> returns one rate per group: group g's from its current rate, <paramref name="current"/>[g] (the
    /// chainable form, as StepLR's current·γ), or from its base rate, <see cref="BaseLearningRates"/>[g] (the closed
    /// form, as LambdaLR's base·f(epoch)). <see cref="Step"/> calls it once per step, with the epoch it advances to, so
    /// a schedule may count steps or metrics in it; to refuse a step, throw before changing anything, and the schedule
    /// and the optimizer stay as they were. <see cref="ApplyEpochZero"/> calls it once with epoch 0 and the base rates.
    /// </summary>
    /// <param name="epoch">The epoch whose rates to compute (torch's <c>last_epoch</c> after the step).</param>
    /// <param name="metric">The metric given to <see cref="Step"/>; null at epoch 0 and when the caller gives none.</param>
    /// <param name="current">Each group's rate now, the optimizer's when something else set it since the last step.</param>
    /// <param name="next">Each group's rate for <paramref name="epoch"/>, to write; as long as <paramref name="current"/>.</param>
    protected abstract void Next(int epoch, double? metric, ReadOnlySpan<double> current, Span<double> next);

    /// <summary>
    /// Sets each group's rate for epoch 0 from <see cref="Next"/> over its base rate, as torch's schedulers do when made:
    /// call it at the end of the constructor of a schedule whose epoch 0 is not its base rate (a warm-up), once its
    /// settings are set. Without it, each group goes on from the rate the optimizer has (its base rate, unless a state
    /// was loaded or a rate set since), as torch's chainable schedules do.
    /// </summary>
    protected void ApplyEpochZero() => ApplyEpochZeroFrom(baseLearningRates);

    /// <summary>
    /// As <see cref="ApplyEpochZero()"/>, but from each group's rate as the optimizer has it when the schedule is made,
    /// as torch's chainable schedules whose epoch 0 scales <c>group['lr']</c> do (LinearLR, ConstantLR): after another
    /// schedule has moved the rate, epoch 0 scales the moved rate, not the base.
    /// </summary>
    protected void ApplyEpochZeroFromCurrentRates() => ApplyEpochZeroFrom(learningRates);

    private void ApplyEpochZeroFrom(double[] from)
    {
        from.CopyTo(currentLearningRates, 0);
        Next(0, null, currentLearningRates, nextLearningRates);
        Apply(nextLearningRates);
    }

    private static string GroupKey(string key, int group) => group == 0 ? key : string.Create(CultureInfo.InvariantCulture, $"{key}.{group}");

    private void Apply(double[] rates)
    {
        for (int g = 0; g < rates.Length; g++)
        {
            learningRates[g] = rates[g];
            Optimizer.SetLearningRate(g, (float)rates[g]);
        }
    }
}
