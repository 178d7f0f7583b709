using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// The GEMM kernels of one accelerator, each compiled on first use and then kept: the naive kernel,
/// the two tiled kernels at the group shape the accelerator allows, the split-k reduction with its partials buffer
/// (grown on demand, then reused), and (CUDA only) a cuBLAS handle.
/// cuBLAS is created lazily, so machines without CUDA never load the native library.
/// </summary>
internal sealed class IlgpuGemmKernels : IDisposable
{
    /// <summary>The start of the message when the cuBLAS library cannot be loaded (tests skip on it).</summary>
    public const string CuBlasMissing = "The cuBLAS library (libcublas.so.13, .12, .11 or .10) could not be loaded";

    private readonly Accelerator accelerator;
    private Action<Index2D, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? naive;
    private Action<KernelConfig, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? tiled;
    private Action<KernelConfig, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? tiledLarge;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, float, float>? splitKReduce;
    private MemoryBuffer1D<float, Stride1D.Dense>? partials;
    private CuBlas? cuBlas;

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

    /// <summary>Whether the tiled kernels run the 256-thread GPU group shape (<see cref="GemmTileGpu"/>) rather than the 16-thread one.</summary>
    public bool UsesGpuTile { get; }

    /// <summary>Threads per group along the columns of C, in both tiled kernels.</summary>
    public int GroupThreadsX { get; }

    /// <summary>Threads per group along the rows of C, in both tiled kernels.</summary>
    public int GroupThreadsY { get; }

    /// <summary>The depth of k the tiled kernels stage per step (BK): 16 on a GPU, 8 on the default CPU accelerator.</summary>
    public int TileDepth { get; }

    /// <summary>The block of C one group of <see cref="IlgpuGemmVariant.Tiled"/> computes: 64×64 on a GPU, 16×16 on the default CPU accelerator.</summary>
    public (int Rows, int Columns) TiledBlock => (GroupThreadsY * GemmTiledKernel.MicroTile, GroupThreadsX * GemmTiledKernel.MicroTile);

    /// <summary>The block of C one group of <see cref="IlgpuGemmVariant.TiledLarge"/> computes: 128×128 on a GPU, 32×32 on the default CPU accelerator.</summary>
    public (int Rows, int Columns) TiledLargeBlock => (GroupThreadsY * GemmTiledLargeKernel.MicroTile, GroupThreadsX * GemmTiledLargeKernel.MicroTile);

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
                Tiled(args, a, b, c);
                break;
            case IlgpuGemmVariant.TiledSplitK:
                TiledSplitK(args, a, b, c, GemmSplitKPlan.For(m, n, k, TiledBlock, TileDepth, accelerator.NumMultiprocessors));
                break;
            case IlgpuGemmVariant.TiledLarge:
                tiledLarge ??= UsesGpuTile
                    ? accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledLargeKernel.Run<GemmTileGpu>)
                    : accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledLargeKernel.Run<GemmTileCpu>);
                tiledLarge(LaunchShape(TiledLargeBlock, m, n), args, a, b, c);
                break;
            case IlgpuGemmVariant.CuBlas:
                CuBlasGemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown ILGPU GEMM variant.");
        }
    }

    /// <summary>
    /// Queues the tiled GEMM split along k as <paramref name="plan"/> says: the tiled kernel writes each slice's partial sums,
    /// then <see cref="GemmSplitKReduceKernel"/> sums them into C with alpha and beta. An unsplit plan runs the tiled kernel alone.
    /// Internal for tests, which force a split the accelerator would not choose.
    /// </summary>
    internal void TiledSplitK(GemmArguments args, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmSplitKPlan plan)
    {
        if (plan.Slices <= 1)
        {
            Tiled(args, a, b, c);
            return;
        }

        var slicePartials = TiledSlices(args, a, b, plan);
        splitKReduce ??= accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, float, float>(GemmSplitKReduceKernel.Run);
        int elements = args.M * args.N;
        splitKReduce(elements, slicePartials, c.SubView(0, elements), plan.Slices, args.Alpha, args.Beta);
    }

    /// <summary>
    /// Queues the first pass of a split-k GEMM alone: op(A)·op(B) in <paramref name="plan"/>'s slices, each slice's raw sums in
    /// its own [m, n] block of the returned view (one block when the plan has one slice). Valid until the next call. The
    /// caller's kernel adds the slices (the LSTM's backward step does it with the cell, <see cref="IlgpuLstmRecurrence"/>).
    /// </summary>
    internal ArrayView<float> TiledSlices(GemmArguments args, ArrayView<float> a, ArrayView<float> b, GemmSplitKPlan plan)
    {
        long partialsLength = (long)plan.Slices * args.M * args.N;
        if (partialsLength > int.MaxValue)
        {
            throw new NotSupportedException($"The split-k GEMM indexes with 32-bit offsets; {plan.Slices} slices of [{args.M}x{args.N}] need 2³¹ partial sums or more.");
        }

        var slicePartials = Partials(partialsLength);
        Tiled(args.SplitK(plan.SliceDepth), a, b, slicePartials, plan.Slices);
        return slicePartials;
    }

    public void Dispose()
    {
        partials?.Dispose();
        partials = null;
        cuBlas?.Dispose();
        cuBlas = null;
    }

    /// <summary>One group per block of C and slice of k: X along the columns, Y along the rows, Z along the slices.</summary>
    private KernelConfig LaunchShape((int Rows, int Columns) block, int m, int n, int slices = 1)
        => new(new Index3D((n + block.Columns - 1) / block.Columns, (m + block.Rows - 1) / block.Rows, slices), new Index3D(GroupThreadsX, GroupThreadsY, 1));

    private void Tiled(GemmArguments args, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int slices = 1)
    {
        tiled ??= UsesGpuTile
            ? accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledKernel.Run<GemmTileGpu>)
            : accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledKernel.Run<GemmTileCpu>);
        tiled(LaunchShape(TiledBlock, args.M, args.N, slices), args, a, b, c);
    }

    /// <summary>A partials view of <paramref name="length"/> floats, valid until the next call; the buffer only grows.</summary>
    private ArrayView<float> Partials(long length)
    {
        if (partials is null || partials.Length < length)
        {
            if (partials is not null)
            {
                // A queued GEMM may still use the old buffer.
                accelerator.Synchronize();
                partials.Dispose();
            }

            partials = accelerator.Allocate1D<float>(length);
        }

        return partials.View.SubView(0, length);
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
            CuBlasLibraryResolver.Install();
            try
            {
                // Binds to the accelerator's default stream, so cuBLAS calls queue behind our kernels.
                cuBlas = new CuBlas(cuda) { PointerMode = CuBlasPointerMode.Host };
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
            {
                // A driver-only machine has CUDA but not the cuBLAS library; say which, rather than fail obscurely.
                throw new NotSupportedException($"{CuBlasMissing}: {ex.Message}", ex);
            }
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
