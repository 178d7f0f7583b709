using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>An optimizer over every parameter of a built model, as torch.optim's: zero the gradients, backpropagate, step.</summary>
public interface IOptimizer : IDisposable
{
    /// <summary>The parameters it updates.</summary>
    ParameterCollection Parameters { get; }

    /// <summary>
    /// The learning rate of the next step (schedules set it). With several parameter groups, the first group's; setting
    /// it sets every group's, as a loop over torch's <c>param_groups</c> does.
    /// </summary>
    float LearningRate { get; set; }

    /// <summary>The number of parameter groups, as <c>len(optimizer.param_groups)</c>: 1 for an optimizer made from a whole <see cref="ParameterCollection"/>.</summary>
    int GroupCount => 1;

    /// <summary>Group <paramref name="group"/>'s learning rate, as <c>optimizer.param_groups[group]["lr"]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group.</exception>
    float GetLearningRate(int group)
    {
        ParameterGroupLayout.CheckGroup(group, 1);
        return LearningRate;
    }

    /// <summary>Sets group <paramref name="group"/>'s learning rate (schedules set each group's), as <c>optimizer.param_groups[group]["lr"] = lr</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group, or the rate is negative or not finite.</exception>
    void SetLearningRate(int group, float learningRate)
    {
        ParameterGroupLayout.CheckGroup(group, 1);
        LearningRate = learningRate;
    }

    /// <summary>
    /// Group <paramref name="group"/>'s initial learning rate, as <c>optimizer.param_groups[group].get("initial_lr")</c>:
    /// the base rate of every schedule made on the optimizer. Null until the first schedule records each group's rate
    /// then (as torch's schedulers' <c>setdefault</c>) or a loaded state restores it; so a schedule made after a load
    /// replays from the run's base, not from the rate the run stopped at. An optimizer that keeps none (this default)
    /// stays null, and each schedule starts from its current rate.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group.</exception>
    float? GetInitialLearningRate(int group)
    {
        ParameterGroupLayout.CheckGroup(group, 1);
        return null;
    }

    /// <summary>
    /// Sets group <paramref name="group"/>'s initial learning rate, as <c>optimizer.param_groups[group]["initial_lr"] = lr</c>
    /// (a schedule sets it when the group has none). This default keeps nothing.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">There is no such group, or the rate is negative or not finite.</exception>
    void SetInitialLearningRate(int group, float learningRate) => ParameterGroupLayout.CheckGroup(group, 1);

    /// <summary>How many steps have been taken.</summary>
    int StepCount { get; }

    /// <summary>Applies one update from the accumulated gradients.</summary>
    void Step();

    /// <summary>Sets every gradient to zero.</summary>
    void ZeroGradients();
}
