using Tensorlet.Backends.Ilgpu;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Recurrence;

/// <summary>
/// A GPU shape with half the rows: 16×8 = 128 threads, BK = 16, a 32×64 block with the 4×4 micro-tile. For products with
/// few rows, such as the LSTM's per-step GEMM at batch 100, where 64-row blocks leave multiprocessors idle: it makes
/// twice the groups, each reusing its slab of B over half as many rows (<see cref="LstmStepForwardKernel"/>).
/// </summary>
internal readonly struct GemmTileGpuHalfRows : IGemmTile
{
    /// <inheritdoc/>
    public int ThreadsX => 16;

    /// <inheritdoc/>
    public int ThreadsY => 8;

    /// <inheritdoc/>
    public int Depth => 16;
}
