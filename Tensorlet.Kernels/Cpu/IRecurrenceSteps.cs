namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One layer's recurrence over a range of steps, as one member of a group of threads that splits the hidden units and
/// meets at the group's barrier after each step (forward: steps t0 to t1 − 1; backward: t1 − 1 down to t0). The group is
/// a whole gang (the split schedule), or the threads the wavefront (<see cref="CpuRecurrenceWavefront"/>) gives one layer;
/// with one member it runs whole steps on the calling thread.
/// </summary>
internal interface IRecurrenceSteps
{
    /// <summary>Steps [t0, t1), member <paramref name="member"/> of <paramref name="group"/>'s members.</summary>
    void Steps(int member, SpinBarrier group, int t0, int t1);
}
