using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// Whether the <c>cuda</c> device can run here, and if not, why: the driver library is missing (or only under the
/// versioned name), the driver finds no GPU, or the driver is too old for ILGPU to drive the GPU. ILGPU itself hides
/// every such error behind an empty device list, so the probe asks the driver first (cuInit, cuDriverGetVersion,
/// cuDeviceGetCount), then ILGPU. Probed once per process: a driver does not come or go while it runs.
/// </summary>
internal sealed class CudaProbe
{
    private static readonly Lazy<CudaProbe> Current = new(Run);

    private CudaProbe(string? problem, string? driverVersion = null, string? deviceName = null, string? computeCapability = null, string? ilgpuTarget = null)
    {
        Problem = problem;
        DriverVersion = driverVersion;
        DeviceName = deviceName;
        ComputeCapability = computeCapability;
        IlgpuTarget = ilgpuTarget;
    }

    /// <summary>Why the <c>cuda</c> device cannot run here (a sentence fragment), or null when it can.</summary>
    public string? Problem { get; }

    /// <summary>The CUDA version the driver supports (12.4), when the driver answered.</summary>
    public string? DriverVersion { get; }

    /// <summary>The first GPU's name, when ILGPU found one.</summary>
    public string? DeviceName { get; }

    /// <summary>The first GPU's compute capability (9.0), when ILGPU found one.</summary>
    public string? ComputeCapability { get; }

    /// <summary>The PTX architecture and instruction set ILGPU compiles for on the first GPU (SM_90, PTX ISA 8.4).</summary>
    public string? IlgpuTarget { get; }

    /// <summary>This process's answer.</summary>
    public static CudaProbe Get() => Current.Value;

    /// <summary>What a CUDA driver's cuInit error code means for the user.</summary>
    internal static string DescribeInitError(int error) => error switch
    {
        100 => "the CUDA driver found no GPU (CUDA_ERROR_NO_DEVICE)",
        34 => "libcuda.so is the CUDA toolkit's stub library, not the driver's (CUDA_ERROR_STUB_LIBRARY); put the driver's folder before the toolkit's stubs on the library path",
        35 => "the installed NVIDIA driver is too old (CUDA_ERROR_INSUFFICIENT_DRIVER)",
        _ => $"the CUDA driver failed to initialize (cuInit returned error {error})",
    };

    private static CudaProbe Run()
    {
        try
        {
            return Probe();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new CudaProbe($"probing the CUDA driver failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static unsafe CudaProbe Probe()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows())
        {
            return new CudaProbe("ILGPU's CUDA backend runs on Linux and Windows only");
        }

        // ILGPU imports the driver as "cuda": libcuda.so on Linux (never the versioned libcuda.so.1), nvcuda.dll on Windows.
        string library = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so";
        if (!NativeLibrary.TryLoad(library, out IntPtr driver))
        {
            if (OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libcuda.so.1", out IntPtr versioned))
            {
                NativeLibrary.Free(versioned);
                return new CudaProbe(
                    "the CUDA driver library libcuda.so.1 is installed but libcuda.so, the name ILGPU loads, is not; "
                    + "link libcuda.so to it in a folder on LD_LIBRARY_PATH (scripts/gpu-check.sh does this)");
            }

            return new CudaProbe($"the CUDA driver library ({library}) was not found: no NVIDIA driver is installed, or its folder is not on the library path");
        }

        var cuInit = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(driver, "cuInit");
        var cuDriverGetVersion = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(driver, "cuDriverGetVersion");
        var cuDeviceGetCount = (delegate* unmanaged<int*, int>)NativeLibrary.GetExport(driver, "cuDeviceGetCount");
        int version = 0;
        string? driverVersion = cuDriverGetVersion(&version) == 0 ? $"{version / 1000}.{version % 1000 / 10}" : null;
        int error = cuInit(0);
        if (error != 0)
        {
            return new CudaProbe(DescribeInitError(error), driverVersion);
        }

        int count = 0;
        if (cuDeviceGetCount(&count) != 0 || count == 0)
        {
            return new CudaProbe("the CUDA driver found no GPU", driverVersion);
        }

        using var context = IlgpuBackend.CreateCudaContext();
        var devices = context.GetCudaDevices();
        if (devices.Count == 0)
        {
            return new CudaProbe($"the CUDA driver {driverVersion} reports {count} GPU(s), but ILGPU could not open any", driverVersion);
        }

        var device = devices[0];
        if (device.Architecture is not { } architecture)
        {
            return new CudaProbe($"{device.Name} is older than any GPU ILGPU supports (compute capability 3.0 or newer)", driverVersion, device.Name);
        }

        string capability = $"{architecture.Major}.{architecture.Minor}";
        if (device.InstructionSet is not { } instructionSet)
        {
            CudaAccelerator.TryGetInstructionSet(architecture, device.DriverVersion, out var minimum, out _);
            return new CudaProbe(
                $"the CUDA driver {device.DriverVersion} is too old for ILGPU to drive {device.Name} (compute capability {capability}): it needs {minimum} or newer",
                driverVersion,
                device.Name,
                capability);
        }

        return new CudaProbe(null, driverVersion, device.Name, capability, $"{architecture}, PTX ISA {instructionSet}");
    }
}
