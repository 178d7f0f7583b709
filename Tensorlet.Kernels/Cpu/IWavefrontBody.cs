namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The work of a two-layer wavefront run by <see cref="CpuWavefront.Run{TBody}"/>, cut into chunks of steps numbered in
/// the order they run (forward: first steps first; backward: last steps first). Each chain's chunk is run by a group of
/// threads together (one thread on two cores), each member calling it with its index and the group's barrier. A struct,
/// so a run allocates nothing.
/// </summary>
internal interface IWavefrontBody
{
    /// <summary>
    /// The leading chain's chunk (forward: the lower layer; backward: the upper one): runs after its previous chunk, on every
    /// member of the leading group. When member 0's call returns, the chunk's results are complete (its steps end at the
    /// group's barrier), because the hand-over may start then.
    /// </summary>
    void Leading(int chunk, int member, SpinBarrier group);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of what hands the leading chain's chunk to the trailing chain: runs after <see cref="Leading"/>(chunk), on one thread.</summary>
    void HandOver(int chunk, int part, int parts);

    /// <summary>The trailing chain's chunk: runs after its previous chunk and after every part of <see cref="HandOver"/>(chunk), on every member of the trailing group.</summary>
    void Trailing(int chunk, int member, SpinBarrier group);
}
