namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The body of a parallel loop over a range cut into contiguous chunks, run by <see cref="CpuParallel.For{TBody}"/>
/// and <see cref="CpuParallel.ForRowBlocks{TBody}"/>. A struct, so starting the loop allocates nothing.
/// </summary>
internal interface IParallelRange
{
    /// <summary>Runs elements (or rows) [start, start + count).</summary>
    void Run(long start, long count);
}
