using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>
/// The base of the library's optimizers, as torch.optim.Optimizer: their parameter groups (torch's <c>param_groups</c>)
/// and the members every one of them has over those groups, written once: the parameters, each group's current and
/// initial learning rate, the group count, the step count and zeroing the gradients. A derived optimizer keeps its own
/// state and writes its <see cref="Step"/>, its state's save and load, and the disposal of its buffers. Only the
/// library derives from it; an optimizer of your own implements <see cref="IOptimizer"/>.
/// </summary>
public abstract class Optimizer : IOptimizer
{
    /// <summary>Over the resolved parameter groups, with no step taken.</summary>
    private protected Optimizer(ParameterGroupLayout groups)
    {
        Groups = groups;
        Parameters = groups.Parameters;
    }

    /// <inheritdoc/>
    public ParameterCollection Parameters { get; }

    /// <summary>The learning rate: the first group's; setting it sets every group's, as a loop over torch's <c>param_groups</c>.</summary>
    public float LearningRate
    {
        get => Groups.GetLearningRate(0);
        set => Groups.SetLearningRates(value, nameof(LearningRate));
    }

    /// <inheritdoc/>
    public int GroupCount => Groups.Count;

    /// <inheritdoc/>
    public int StepCount { get; private protected set; }

    /// <summary>The parameter groups, for checkpoints.</summary>
    internal ParameterGroupLayout Groups { get; }

    /// <inheritdoc/>
    public abstract void Step();

    /// <inheritdoc/>
    public float GetLearningRate(int group) => Groups.GetLearningRate(group);

    /// <inheritdoc/>
    public void SetLearningRate(int group, float learningRate) => Groups.SetLearningRate(group, learningRate, nameof(learningRate));

    /// <inheritdoc/>
    public float? GetInitialLearningRate(int group) => Groups.GetInitialLearningRate(group);

    /// <inheritdoc/>
    public void SetInitialLearningRate(int group, float learningRate) => Groups.SetInitialLearningRate(group, learningRate, nameof(learningRate));

    /// <inheritdoc/>
    public void ZeroGradients() => Parameters.ZeroGradients();

    /// <summary>Frees the optimizer's buffers.</summary>
    public abstract void Dispose();
}
