using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

/// <summary>The <c>cpu</c> device: Tensorlet's SIMD C# kernels over 64-byte-aligned native memory, on <see cref="Threads"/> threads.</summary>
internal sealed partial class CpuBackend : IKernelBackend
{
    /// <param name="threads">How many threads the kernels use.</param>
    /// <param name="plan">The register width and GEMM blocking; null for this process's (<see cref="CpuKernelPlan.Machine"/>).</param>
    public CpuBackend(int threads, CpuKernelPlan? plan = null)
    {
        Threads = threads;
        Plan = plan ?? CpuKernelPlan.Machine;
    }

    /// <summary>How many threads the kernels use: the one thread count the backend is given.</summary>
    public int Threads { get; }

    /// <summary>The register width and GEMM blocking every kernel of this device runs with.</summary>
    public CpuKernelPlan Plan { get; }

    public string Description =>
        $"CPU, {Threads} thread(s); {CpuCores.Machine} core(s), {Environment.ProcessorCount} logical CPU(s); {Plan.Describe()}";

    public Storage<T> Allocate<T>(long length)
        where T : unmanaged => new CpuStorage<T>(length, Plan.HugePages);

    // CPU kernels run synchronously on the calling thread (and the worker team's threads, CpuThreadTeam).
    public void Synchronize()
    {
    }

    public void Dispose() => packedOperands.Dispose();
}
