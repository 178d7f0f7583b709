using System.Globalization;

namespace Tensorlet.Optim;

/// <summary>
/// A learning-rate schedule as torch.optim.lr_scheduler: it sets the optimizer's learning rate on creation (epoch 0)
/// and after every <see cref="Step"/>, computing in double as PyTorch does in Python.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>Records the optimizer's learning rate as the base and applies epoch 0's.</summary>
    protected LearningRateSchedule(IOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
        LearningRate = BaseLearningRate;
    }

    /// <summary>The optimizer whose learning rate is set.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The learning rate the optimizer had when the schedule was created.</summary>
    public double BaseLearningRate { get; private set; }

    /// <summary>The current learning rate, in double.</summary>
    public double LearningRate { get; private set; }

    /// <summary>The number of <see cref="Step"/> calls so far (PyTorch's last_epoch).</summary>
    public int Epoch { get; private set; }

    /// <summary>Whether <see cref="Step"/> needs a metric (ReduceLROnPlateau).</summary>
    public virtual bool NeedsMetric => false;

    /// <summary>
    /// Advances one epoch (or step) and sets the new learning rate; <paramref name="metric"/> is read only by
    /// metric-driven schedules. As in PyTorch, a chainable schedule goes on from the optimizer's rate: when something
    /// else set it since this schedule's last step (another schedule on the same optimizer, or a hand), from that rate.
    /// </summary>
    public void Step(double? metric = null)
    {
        // The optimizer holds a float; while it still holds this schedule's rate, the double goes on unrounded.
        double current = Optimizer.LearningRate == (float)LearningRate ? LearningRate : Optimizer.LearningRate;

        // The next rate first: a step refused (ReduceLROnPlateau without its metric) leaves the epoch as it was.
        double next = Next(current, Epoch + 1, metric);
        Epoch++;
        Apply(next);
    }

    /// <summary>
    /// The schedule's state, as torch's <c>scheduler.state_dict()</c> holds it: <c>last_epoch</c>, <c>base_lr</c> and
    /// <c>last_lr</c> (torch's <c>base_lrs</c> and <c>_last_lr</c>, for the one parameter group), and a schedule's own
    /// counters under torch's names (ReduceLROnPlateau's <c>best</c>, <c>num_bad_epochs</c>, <c>cooldown_counter</c>).
    /// Its settings are not in it: a schedule made with the same arguments takes it.
    /// </summary>
    public IReadOnlyDictionary<string, double> StateDict()
    {
        var state = new Dictionary<string, double> { ["last_epoch"] = Epoch, ["base_lr"] = BaseLearningRate, ["last_lr"] = LearningRate };
        AddState(state);
        return state;
    }

    /// <summary>
    /// Restores a state from <see cref="StateDict"/> and sets the optimizer's learning rate to its <c>last_lr</c>, so
    /// a resumed run's schedule continues exactly, whatever rate the optimizer was made with (<c>base_lr</c> is
    /// restored too). Every key and value is checked first: on an error nothing changes.
    /// </summary>
    /// <exception cref="ArgumentException">A key is missing or unknown, or a value is not one the schedule can hold.</exception>
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
        double baseLearningRate = state["base_lr"];
        double learningRate = state["last_lr"];
        HyperparameterChecks.NonNegative(baseLearningRate, "base_lr");
        HyperparameterChecks.NonNegative(learningRate, "last_lr");
        LoadState(state);
        Epoch = epoch;
        BaseLearningRate = baseLearningRate;
        Apply(learningRate);
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

    /// <summary>The learning rate for <paramref name="epoch"/>, from the current one (PyTorch's chainable form) or from the base.</summary>
    protected abstract double Next(double current, int epoch, double? metric);

    /// <summary>Sets the learning rate of epoch 0; call at the end of a constructor whose schedule does not start at the base rate.</summary>
    protected void Apply(double learningRate)
    {
        LearningRate = learningRate;
        Optimizer.LearningRate = (float)learningRate;
    }
}
