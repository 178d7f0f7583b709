using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// The <c>cuda</c> and <c>ilgpu-cpu</c> devices: Tensorlet's ILGPU kernels on one accelerator.
/// Kernels are compiled and loaded once per backend (one per accelerator), on first use, and cached.
/// All launches go to the accelerator's default stream; only host reads synchronize.
/// </summary>
internal sealed partial class IlgpuBackend : IKernelBackend
{
    private readonly Context context;

    private IlgpuBackend(Context context, Accelerator accelerator)
    {
        this.context = context;
        Accelerator = accelerator;
    }

    public Accelerator Accelerator { get; }

    public bool IsCpuAccelerator => Accelerator.AcceleratorType == AcceleratorType.CPU;

    // ILGPU's CPU accelerator reports long.MaxValue bytes (it allocates from host memory), which is no size to print.
    public string Description => IsCpuAccelerator
        ? $"{Accelerator.Name} ({Accelerator.AcceleratorType}, ILGPU, host memory)"
        : $"{Accelerator.Name} ({Accelerator.AcceleratorType}, ILGPU, {Accelerator.MemorySize / (1024 * 1024)} MiB)";

    public static IlgpuBackend CreateCuda()
    {
        var context = CreateCudaContext();
        return new IlgpuBackend(context, context.CreateCudaAccelerator(0));
    }

    /// <summary>
    /// The ILGPU context the <c>cuda</c> device compiles its kernels in. Internal so the PTX tests compile with the same
    /// settings without a GPU (the context holds no device then).
    /// </summary>
    internal static Context CreateCudaContext() => Context.Create(builder => builder.Cuda().EnableAlgorithms());

    public static IlgpuBackend CreateCpu()
    {
        var context = Context.Create(builder => builder.CPU().EnableAlgorithms());
        return new IlgpuBackend(context, context.CreateCPUAccelerator(0));
    }

    public Storage<T> Allocate<T>(long length)
        where T : unmanaged => new IlgpuStorage<T>(Accelerator, length);

    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        elementwiseKernels?.Dispose();
        Accelerator.Dispose();
        context.Dispose();
    }
}
