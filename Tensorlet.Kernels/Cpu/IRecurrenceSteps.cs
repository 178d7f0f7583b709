namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One layer's recurrence over a range of steps, as one member of a gang that splits the hidden units (forward: steps
/// t0 to t1 − 1; backward: t1 − 1 down to t0). With one member it runs whole steps on the calling thread, which is how
/// the wavefront (<see cref="CpuRecurrenceWavefront"/>) runs each layer's chunks.
/// </summary>
internal interface IRecurrenceSteps
{
    /// <summary>Steps [t0, t1), member <paramref name="member"/> of <paramref name="members"/>.</summary>
    void Steps(int member, int members, int t0, int t1);
}
