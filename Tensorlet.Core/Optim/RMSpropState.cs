namespace Tensorlet.Optim;

/// <summary>RMSprop's state on the host: the step count and the flat mean square, momentum buffer and mean gradient.</summary>
/// <param name="Step">Steps taken.</param>
/// <param name="SquareAverage">The running mean of the squared gradients (torch's <c>square_avg</c>), in the parameter collection's order.</param>
/// <param name="MomentumBuffer">The momentum buffer (torch's <c>momentum_buffer</c>), in the same order; null when no group has momentum.</param>
/// <param name="GradientAverage">
/// The running mean of the gradients (torch's <c>grad_avg</c>), in the same order; null when no group is centered. It is
/// kept, as torch's, for the parameters of the groups that are (and the frozen ones in no group); a parameter of another
/// group holds 0 here, and a checkpoint holds nothing for it.
/// </param>
public sealed record RMSpropState(int Step, float[] SquareAverage, float[]? MomentumBuffer, float[]? GradientAverage)
{
    /// <summary>Each group's centered (torch's per-group <c>centered</c>); null for a state of the same centered for every group, that is, whether <see cref="GradientAverage"/> is there.</summary>
    public bool[]? Centered { get; init; }

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
