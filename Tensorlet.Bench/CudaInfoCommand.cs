using Tensorlet.Backends.Ilgpu;

namespace Tensorlet.Bench;

/// <summary>
/// <c>cuda-info</c>: what the <c>cuda</c> device runs on, one line each, for the preflight of scripts/gpu-check.sh: the
/// driver's CUDA version, the GPU and its compute capability, ILGPU's PTX target, and the device as created.
/// Exit 0 when the cuda device works, 1 with one line saying why when it does not.
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
        try
        {
            using var device = Device.Create("cuda");
            Console.WriteLine($"device: {device.Description}");
            return 0;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The driver and ILGPU agreed the GPU is usable, yet the accelerator could not be made: say so on one line.
            Console.WriteLine($"cuda: not available: creating the device failed: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
    }
}
