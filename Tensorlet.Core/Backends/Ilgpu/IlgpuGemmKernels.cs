using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// The GEMM kernels of one accelerator, each compiled on first use and then kept: the naive kernel,
/// the tiled kernel at the tile shape the accelerator's group size allows, and (CUDA only) a cuBLAS handle.
/// cuBLAS is created lazily, so machines without CUDA never load the native library.
/// </summary>
internal sealed class IlgpuGemmKernels : IDisposable
{
    private readonly Accelerator accelerator;
    private Action<Index2D, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? naive;
    private Action<KernelConfig, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? tiled;
    private CuBlas? cuBlas;

    public IlgpuGemmKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;

        // The 64×64 tile needs 256 threads per group: every CUDA GPU, or a CPU accelerator built for it.
        // ILGPU's default CPU accelerator allows 16, which the 16×16 tile fits.
        UsesLargeTile = accelerator.MaxNumThreadsPerGroup >= 256;
        if (!UsesLargeTile && accelerator.MaxNumThreadsPerGroup < 16)
        {
            throw new NotSupportedException($"The tiled GEMM needs at least 16 threads per group; {accelerator.Name} allows {accelerator.MaxNumThreadsPerGroup}.");
        }

        (TileRows, TileColumns) = UsesLargeTile
            ? (GemmTiledKernel.BlockRows<GemmTile64>(), GemmTiledKernel.BlockColumns<GemmTile64>())
            : (GemmTiledKernel.BlockRows<GemmTile16>(), GemmTiledKernel.BlockColumns<GemmTile16>());
    }

    /// <summary>Whether the tiled kernel runs the 64×64 GPU tile (<see cref="GemmTile64"/>) rather than the 16×16 one.</summary>
    public bool UsesLargeTile { get; }

    /// <summary>Rows of C per group of the tiled kernel.</summary>
    public int TileRows { get; }

    /// <summary>Columns of C per group of the tiled kernel.</summary>
    public int TileColumns { get; }

    /// <summary>
    /// Queues C[m,n] = alpha·op(A)·op(B) + beta·C on the accelerator's default stream (see <see cref="IKernelBackend.Gemm"/>).
    /// The views must be dense row-major and each hold fewer than 2³¹ elements.
    /// </summary>
    public void Gemm(IlgpuGemmVariant variant, ArrayView<float> a, bool transposeA, ArrayView<float> b, bool transposeB, ArrayView<float> c, int m, int n, int k, float alpha, float beta)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (Math.Max((long)m * k, Math.Max((long)k * n, (long)m * n)) > int.MaxValue)
        {
            throw new NotSupportedException($"The ILGPU GEMM indexes with 32-bit offsets; [{m}x{k}]·[{k}x{n}] has an operand of 2³¹ elements or more.");
        }

        var args = new GemmArguments(transposeA, transposeB, m, n, k, alpha, beta);
        switch (variant)
        {
            case IlgpuGemmVariant.Naive:
                naive ??= accelerator.LoadAutoGroupedStreamKernel<Index2D, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmNaiveKernel.Run);
                naive(new Index2D(n, m), args, a, b, c);
                break;
            case IlgpuGemmVariant.Tiled:
                tiled ??= UsesLargeTile
                    ? accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledKernel.Run<GemmTile64>)
                    : accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledKernel.Run<GemmTile16>);
                var grid = new Index2D((n + TileColumns - 1) / TileColumns, (m + TileRows - 1) / TileRows);
                var group = new Index2D(TileColumns / GemmTiledKernel.MicroTile, TileRows / GemmTiledKernel.MicroTile);
                tiled(new KernelConfig(grid, group), args, a, b, c);
                break;
            case IlgpuGemmVariant.CuBlas:
                CuBlasGemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown ILGPU GEMM variant.");
        }
    }

    public void Dispose()
    {
        cuBlas?.Dispose();
        cuBlas = null;
    }

    /// <summary>
    /// cuBLAS is column-major. A row-major [r,c] matrix is the column-major [c,r] matrix, its transpose,
    /// so we ask cuBLAS for Cᵀ = op(B)ᵀ·op(A)ᵀ: the operands swap places and keep their own transpose flags.
    /// Row-major B stored [k,n] is column-major op(B)ᵀ [n,k] with leading dimension n (no transpose);
    /// stored [n,k] it is column-major [k,n] with leading dimension k, so cuBLAS transposes it. A likewise.
    /// cuBLAS does not read C when beta is 0, as the contract requires.
    /// </summary>
    private void CuBlasGemm(ArrayView<float> a, bool transposeA, ArrayView<float> b, bool transposeB, ArrayView<float> c, int m, int n, int k, float alpha, float beta)
    {
        if (accelerator is not CudaAccelerator cuda)
        {
            throw new NotSupportedException($"cuBLAS needs a CUDA accelerator; this device runs on {accelerator.AcceleratorType}.");
        }

        if (cuBlas is null)
        {
            // Binds to the accelerator's default stream, so cuBLAS calls queue behind our kernels.
            cuBlas = new CuBlas(cuda) { PointerMode = CuBlasPointerMode.Host };
        }

        cuBlas.Gemm(
            transposeB ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
            transposeA ? CuBlasOperation.Transpose : CuBlasOperation.NonTranspose,
            n,
            m,
            k,
            alpha,
            b,
            Math.Max(1, transposeB ? k : n),
            a,
            Math.Max(1, transposeA ? m : k),
            beta,
            c,
            n);
    }
}
