namespace Tensorlet.Optim;

/// <summary>Adam's state on the host: the step count, the flat first and second moments and, when a group is amsgrad, their running maximum.</summary>
/// <param name="Step">Steps taken.</param>
/// <param name="FirstMoment">m, in the parameter collection's order.</param>
/// <param name="SecondMoment">v, in the same order.</param>
public sealed record AdamState(int Step, float[] FirstMoment, float[] SecondMoment)
{
    /// <summary>
    /// The running maximum of the second moment (torch's <c>max_exp_avg_sq</c>), in the same order; null when no group is
    /// amsgrad. It is kept, as torch's, for the parameters of the groups that are (and the frozen ones in no group); a
    /// parameter of another group holds 0 here, and a checkpoint holds nothing for it.
    /// </summary>
    public float[]? MaxSecondMoment { get; init; }

    /// <summary>Each group's amsgrad (torch's per-group <c>amsgrad</c>); null for a state of the same amsgrad for every group, that is, whether <see cref="MaxSecondMoment"/> is there.</summary>
    public bool[]? Amsgrad { get; init; }

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
