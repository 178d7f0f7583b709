namespace Tensorlet.Backends.Ilgpu;

/// <summary>Which GEMM an ILGPU device runs; benchmarks and tests pick one through <see cref="IlgpuBackend.GemmVariant"/>.</summary>
internal enum IlgpuGemmVariant
{
    /// <summary>One thread per element of C, straight from global memory (the baseline).</summary>
    Naive,

    /// <summary>Shared-memory tiles with 4×4 register blocking (the default).</summary>
    Tiled,

    /// <summary>NVIDIA's cuBLAS through ILGPU.Algorithms; CUDA accelerators only.</summary>
    CuBlas,
}
