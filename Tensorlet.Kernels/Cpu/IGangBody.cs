namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The body of a gang run by <see cref="CpuThreadTeam.RunGang{TBody}"/>: one call per member, all members at the
/// same time on distinct threads, meeting at <see cref="CpuThreadTeam.Barrier"/>(members). A struct, so starting the
/// gang allocates nothing.
/// </summary>
internal interface IGangBody
{
    /// <summary>Runs member <paramref name="member"/> of <paramref name="members"/>.</summary>
    void Run(int member, int members);
}
