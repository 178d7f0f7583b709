namespace Tensorlet.Optim;

/// <summary>SGD's state on the host: the step count and, with momentum, the flat momentum buffer.</summary>
/// <param name="Step">Steps taken (the buffer starts as the gradient of step 1).</param>
/// <param name="MomentumBuffer">The buffer, in the parameter collection's order; null without momentum.</param>
public sealed record SgdState(int Step, float[]? MomentumBuffer)
{
    /// <summary>The parameter group of each parameter, in the collection's order (-1 for a frozen one in none); null for one group of all.</summary>
    public int[]? Groups { get; init; }

    /// <summary>Each group's learning rate; null leaves the optimizer's as they are.</summary>
    public float[]? LearningRates { get; init; }

    /// <summary>
    /// Each group's initial learning rate (torch's <c>initial_lr</c>), the base rate of the schedules made on the
    /// optimizer; null when a group has none, which a load reads as the rates the optimizer was made with.
    /// </summary>
    public float[]? InitialLearningRates { get; init; }
}
