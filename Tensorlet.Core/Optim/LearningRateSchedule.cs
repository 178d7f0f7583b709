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
    public double BaseLearningRate { get; }

    /// <summary>The current learning rate, in double.</summary>
    public double LearningRate { get; private set; }

    /// <summary>The number of <see cref="Step"/> calls so far (PyTorch's last_epoch).</summary>
    public int Epoch { get; private set; }

    /// <summary>Whether <see cref="Step"/> needs a metric (ReduceLROnPlateau).</summary>
    public virtual bool NeedsMetric => false;

    /// <summary>Advances one epoch (or step) and sets the new learning rate; <paramref name="metric"/> is read only by metric-driven schedules.</summary>
    public void Step(double? metric = null)
    {
        Epoch++;
        Apply(Next(LearningRate, Epoch, metric));
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
