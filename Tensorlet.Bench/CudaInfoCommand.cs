using System.CommandLine;
using Tensorlet.Backends.Ilgpu;

namespace Tensorlet.Bench;

/// <summary>
/// <c>cuda-info</c>: what the <c>cuda</c> device runs on, one line each, for the preflight of scripts/gpu-check.sh: the
/// driver's CUDA version, the GPU and its compute capability, ILGPU's PTX target, and the device as created.
/// Exit 0 when the cuda device works, 1 with one line saying why when it does not. It takes no arguments but
/// <c>--help</c>; any other is a parse error (exit 2).
/// </summary>
internal static class CudaInfoCommand
{
    /// <summary>The <c>cuda-info</c> command.</summary>
    public static Command Command()
    {
        var command = new Command("cuda-info", "Show what the cuda device runs on: driver, GPU, ILGPU target and the device as created");
        command.SetAction(_ => Run());
        return command;
    }

    private static int Run()
    {
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
