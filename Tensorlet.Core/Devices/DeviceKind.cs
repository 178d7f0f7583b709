namespace Tensorlet;

/// <summary>The kinds of compute device Tensorlet can run on.</summary>
public enum DeviceKind
{
    /// <summary>Tensorlet's own SIMD C# kernels on all CPU cores.</summary>
    Cpu,

    /// <summary>The ILGPU kernels on an NVIDIA GPU through ILGPU's CUDA accelerator.</summary>
    Cuda,

    /// <summary>The ILGPU kernels on ILGPU's CPU accelerator: correct but slow; used to test the GPU kernels without a GPU.</summary>
    IlgpuCpu,
}
