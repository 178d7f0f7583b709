namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The work of a two-layer wavefront run by <see cref="CpuWavefront.Run{TBody}"/>, cut into chunks of steps numbered in
/// the order they run (forward: first steps first; backward: last steps first). A struct, so a run allocates nothing.
/// </summary>
internal interface IWavefrontBody
{
    /// <summary>The leading chain's chunk (forward: the lower layer; backward: the upper one): runs after its previous chunk, on one thread.</summary>
    void Leading(int chunk);

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> of what hands the leading chain's chunk to the trailing chain: runs after <see cref="Leading"/>(chunk).</summary>
    void HandOver(int chunk, int part, int parts);

    /// <summary>The trailing chain's chunk: runs after its previous chunk and after every part of <see cref="HandOver"/>(chunk), on one thread.</summary>
    void Trailing(int chunk);
}
