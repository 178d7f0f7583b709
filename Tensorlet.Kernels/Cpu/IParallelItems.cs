namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The body of a parallel loop over items 0 … count − 1, run by <see cref="CpuParallel.ForItems{TBody}"/>.
/// A struct, so the JIT specializes the loop for it and starting the loop allocates nothing (a lambda would
/// allocate its closure and delegate on every call).
/// </summary>
internal interface IParallelItems
{
    /// <summary>Runs one item; items may run in any order and on any thread of the loop.</summary>
    void Run(int item);
}
