using ILGPU.Runtime.Cuda;
using Tensorlet.Backends.Ilgpu;

namespace Tensorlet.Bench;

/// <summary>
/// <c>cuda-info</c>: what the <c>cuda</c> device runs on, one line each, for the preflight of scripts/gpu-check.sh: the
/// driver's CUDA version, the GPU and its compute capability, ILGPU's PTX target, and the cuBLAS library loaded (by
/// creating a cuBLAS handle). Exit 0 when the cuda device works, 1 with one line saying why when it does not
/// (a missing cuBLAS is reported, not a failure: the default GEMM does not use it).
/// </summary>
internal static class CudaInfoCommand
{
    public static int Run(string[] args)
    {
        if (args.Length > 0)
        {
            Console.Error.WriteLine("cuda-info: takes no arguments");
            return 2;
        }

        var probe = CudaProbe.Get();
        if (probe.DriverVersion is not null)
        {
            Console.WriteLine($"driver: supports CUDA {probe.DriverVersion}");
        }

        if (probe.Problem is { } problem)
        {
            Console.WriteLine($"cuda: not available: {problem}");
            return 1;
        }

        Console.WriteLine($"gpu: {probe.DeviceName}, compute capability {probe.ComputeCapability}");
        Console.WriteLine($"ilgpu target: {probe.IlgpuTarget}");
        using var device = Device.Create("cuda");
        var accelerator = (CudaAccelerator)((IlgpuBackend)device.Backend).Accelerator;
        CuBlasLibraryResolver.Install();
        try
        {
            using var blas = new CuBlas(accelerator);
            Console.WriteLine($"cuBLAS: {CuBlasLibraryResolver.Loaded ?? "loaded by the runtime's own probing"}, version {blas.Version}");
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            Console.WriteLine($"cuBLAS: not loaded ({ex.Message}); the default GEMM does not need it");
        }

        return 0;
    }
}
