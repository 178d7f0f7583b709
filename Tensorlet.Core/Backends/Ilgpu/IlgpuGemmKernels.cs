using ILGPU;
using ILGPU.Runtime;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// The GEMM of one accelerator: the tiled kernel (<see cref="GemmTiledKernel"/>), compiled on first use at the group shape
/// the accelerator allows, then kept. Experimental variants (naive, split-k, 8×8 tiles, cuBLAS) live in dev/IlgpuKernels.
/// </summary>
internal sealed class IlgpuGemmKernels
{
    private readonly Accelerator accelerator;
    private Action<KernelConfig, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? tiled;

    public IlgpuGemmKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;

        // The GPU group shape needs 256 threads per group: every CUDA GPU, or a CPU accelerator built for it.
        // ILGPU's default CPU accelerator allows 16, which the CPU shape fits.
        UsesGpuTile = accelerator.MaxNumThreadsPerGroup >= 256;
        if (!UsesGpuTile && accelerator.MaxNumThreadsPerGroup < 16)
        {
            throw new NotSupportedException($"The tiled GEMM needs at least 16 threads per group; {accelerator.Name} allows {accelerator.MaxNumThreadsPerGroup}.");
        }

        (GroupThreadsX, GroupThreadsY, TileDepth) = UsesGpuTile
            ? (default(GemmTileGpu).ThreadsX, default(GemmTileGpu).ThreadsY, default(GemmTileGpu).Depth)
            : (default(GemmTileCpu).ThreadsX, default(GemmTileCpu).ThreadsY, default(GemmTileCpu).Depth);
    }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator => accelerator;

    /// <summary>Whether the tiled kernel runs the 256-thread GPU group shape (<see cref="GemmTileGpu"/>) rather than the 16-thread one.</summary>
    public bool UsesGpuTile { get; }

    /// <summary>Threads per group along the columns of C.</summary>
    public int GroupThreadsX { get; }

    /// <summary>Threads per group along the rows of C.</summary>
    public int GroupThreadsY { get; }

    /// <summary>The depth of k the tiled kernel stages per step (BK): 16 on a GPU, 8 on the default CPU accelerator.</summary>
    public int TileDepth { get; }

    /// <summary>The block of C one group computes: 64×64 on a GPU, 16×16 on the default CPU accelerator.</summary>
    public (int Rows, int Columns) TiledBlock => (GroupThreadsY * GemmTiledKernel.MicroTile, GroupThreadsX * GemmTiledKernel.MicroTile);

    /// <summary>
    /// Queues C[m,n] = alpha·op(A)·op(B) + beta·C on the accelerator's default stream (see <see cref="IKernelBackend.Gemm"/>).
    /// The views must be dense row-major and each hold fewer than 2³¹ elements.
    /// </summary>
    public void Gemm(ArrayView<float> a, bool transposeA, ArrayView<float> b, bool transposeB, ArrayView<float> c, int m, int n, int k, float alpha, float beta)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (Math.Max((long)m * k, Math.Max((long)k * n, (long)m * n)) > int.MaxValue)
        {
            throw new NotSupportedException($"The ILGPU GEMM indexes with 32-bit offsets; [{m}x{k}]·[{k}x{n}] has an operand of 2³¹ elements or more.");
        }

        Tiled(new GemmArguments(transposeA, transposeB, m, n, k, alpha, beta), a, b, c);
    }

    /// <summary>
    /// Queues the tiled kernel on checked arguments, over <paramref name="slices"/> slices of k when the arguments are split
    /// (<see cref="GemmArguments.SplitK"/>; the split-k variant of dev/IlgpuKernels uses it).
    /// </summary>
    internal void Tiled(GemmArguments args, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int slices = 1)
    {
        tiled ??= UsesGpuTile
            ? accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledKernel.Run<GemmTileGpu>)
            : accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledKernel.Run<GemmTileCpu>);
        tiled(LaunchShape(TiledBlock, args.M, args.N, slices), args, a, b, c);
    }

    /// <summary>One group per block of C and slice of k: X along the columns, Y along the rows, Z along the slices.</summary>
    internal KernelConfig LaunchShape((int Rows, int Columns) block, int m, int n, int slices = 1)
        => new(new Index3D((n + block.Columns - 1) / block.Columns, (m + block.Rows - 1) / block.Rows, slices), new Index3D(GroupThreadsX, GroupThreadsY, 1));
}
