using System.Runtime.Intrinsics;

namespace Tensorlet.Backends.Cpu;

/// <summary>The <c>cpu</c> device: Tensorlet's SIMD C# kernels over 64-byte-aligned native memory, on <see cref="Threads"/> threads.</summary>
internal sealed partial class CpuBackend : IKernelBackend
{
    public CpuBackend(int threads)
    {
        Threads = threads;
        Parallelism = new ParallelOptions { MaxDegreeOfParallelism = threads };
    }

    /// <summary>How many threads the kernels use: the one thread count the backend is given.</summary>
    public int Threads { get; }

    /// <summary><see cref="Threads"/> in the form the kernels that split work through <see cref="Kernels.Cpu.CpuParallel"/> take.</summary>
    private ParallelOptions Parallelism { get; }

    public string Description =>
        $"CPU, {Threads} thread(s) of {Environment.ProcessorCount}, " +
        (Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar");

    public Storage<T> Allocate<T>(long length)
        where T : unmanaged => new CpuStorage<T>(length);

    // CPU kernels run synchronously on the calling thread (and the worker team's threads, CpuThreadTeam).
    public void Synchronize()
    {
    }

    public void Dispose() => packedOperands.Dispose();
}
