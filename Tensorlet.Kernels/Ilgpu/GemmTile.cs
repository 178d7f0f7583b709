namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// A group shape for the tiled GEMM kernels, as compile-time constants: the kernels are generic
/// over a struct implementing this, and ILGPU folds <c>default(TTile).ThreadsX</c> and friends into
/// constants, so shared-memory sizes stay constant while one kernel body serves every shape.
/// Each thread computes a MicroTile×MicroTile block of C (4 in <see cref="GemmTiledKernel"/>), so a group covers
/// (ThreadsY·MicroTile)×(ThreadsX·MicroTile) elements of C. Public to the dev workbench, whose variants take the same shapes.
/// </summary>
internal interface IGemmTile
{
    /// <summary>Threads per group along the columns of C.</summary>
    int ThreadsX { get; }

    /// <summary>Threads per group along the rows of C.</summary>
    int ThreadsY { get; }

    /// <summary>The depth (BK) of the A and B slabs staged in shared memory per step.</summary>
    int Depth { get; }
}

/// <summary>
/// The GPU shape: 16×16 = 256 threads, BK = 16. A 64×64 block of C with the 4×4 micro-tile (8.3 KB of shared memory).
/// </summary>
internal readonly struct GemmTileGpu : IGemmTile
{
    /// <inheritdoc/>
    public int ThreadsX => 16;

    /// <inheritdoc/>
    public int ThreadsY => 16;

    /// <inheritdoc/>
    public int Depth => 16;
}

/// <summary>
/// The CPU shape: 4×4 = 16 threads, BK = 8; a 16×16 block of C. It fits ILGPU's default CPU accelerator,
/// which allows at most 16 threads per group (warp 4 × 4 warps), and keeps its OS-level barriers few.
/// </summary>
internal readonly struct GemmTileCpu : IGemmTile
{
    /// <inheritdoc/>
    public int ThreadsX => 4;

    /// <inheritdoc/>
    public int ThreadsY => 4;

    /// <inheritdoc/>
    public int Depth => 8;
}
