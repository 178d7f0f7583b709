namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// A block-tile shape for <see cref="GemmTiledKernel"/>, as compile-time constants: the kernel is generic
/// over a struct implementing this, and ILGPU folds <c>default(TTile).ThreadsX</c> and friends into
/// constants, so shared-memory sizes stay constant while one kernel body serves every shape.
/// Each thread computes a <see cref="GemmTiledKernel.MicroTile"/>×<see cref="GemmTiledKernel.MicroTile"/> block of C,
/// so a group covers (ThreadsY·4)×(ThreadsX·4) elements of C.
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

/// <summary>The GPU tile: 16×16 = 256 threads, a 64×64 block of C, BK = 16 (8.3 KB of shared memory).</summary>
internal readonly struct GemmTile64 : IGemmTile
{
    /// <inheritdoc/>
    public int ThreadsX => 16;

    /// <inheritdoc/>
    public int ThreadsY => 16;

    /// <inheritdoc/>
    public int Depth => 16;
}

/// <summary>
/// The small tile: 4×4 = 16 threads, a 16×16 block of C, BK = 8. It fits ILGPU's default CPU accelerator,
/// which allows at most 16 threads per group (warp 4 × 4 warps), and keeps its OS-level barriers few.
/// </summary>
internal readonly struct GemmTile16 : IGemmTile
{
    /// <inheritdoc/>
    public int ThreadsX => 4;

    /// <inheritdoc/>
    public int ThreadsY => 4;

    /// <inheritdoc/>
    public int Depth => 8;
}
