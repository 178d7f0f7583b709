namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>The ILGPU GEMMs of the workbench, run through <see cref="GemmVariants"/>; only <see cref="Tiled"/> ships.</summary>
internal enum GemmVariant
{
    /// <summary>One thread per element of C, straight from global memory (the baseline).</summary>
    Naive,

    /// <summary>Shared-memory tiles with 4×4 register blocking, 64×64 blocks on a GPU (the library's kernel, the default on every ILGPU device).</summary>
    Tiled,

    /// <summary>
    /// <see cref="Tiled"/> with k split across extra groups when the launch would leave the accelerator's multiprocessors idle
    /// (<see cref="GemmSplitKPlan"/>), then a reduction pass: for the LSTM's per-step GEMMs, batch 100 × 4H or H.
    /// </summary>
    TiledSplitK,

    /// <summary>Shared-memory tiles with 8×8 register blocking, 128×128 blocks on a GPU: more reuse, fewer groups.</summary>
    TiledLarge,

    /// <summary>NVIDIA's cuBLAS through ILGPU.Algorithms; CUDA accelerators only.</summary>
    CuBlas,
}
