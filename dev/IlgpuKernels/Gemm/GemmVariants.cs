using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>
/// Every ILGPU GEMM variant of the workbench on one accelerator, each compiled on first use and then kept: the naive
/// kernel, the library's tiled kernel (through <see cref="IlgpuGemmKernels"/>), the tiled kernel split along k with its
/// reduction and partials buffer (grown on demand, then reused), the 8×8-tile kernel, and (CUDA only) a cuBLAS handle,
/// created lazily so machines without CUDA never load the native library.
/// </summary>
internal sealed class GemmVariants : IDisposable
{
    /// <summary>The start of the message when the cuBLAS library cannot be loaded (tests and the workbench skip on it).</summary>
    public const string CuBlasMissing = "The cuBLAS library (libcublas.so.13, .12, .11 or .10) could not be loaded";

    private readonly Accelerator accelerator;
    private Action<Index2D, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? naive;
    private Action<KernelConfig, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>? tiledLarge;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, float, float>? splitKReduce;
    private MemoryBuffer1D<float, Stride1D.Dense>? partials;
    private CuBlas? cuBlas;

    public GemmVariants(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        Library = new IlgpuGemmKernels(accelerator);
    }

    /// <summary>The library's GEMM on this accelerator: the tiled kernel and its group shape.</summary>
    public IlgpuGemmKernels Library { get; }

    /// <summary>The accelerator the kernels run on.</summary>
    public Accelerator Accelerator => accelerator;

    /// <summary>The block of C one group of <see cref="GemmVariant.TiledLarge"/> computes: 128×128 on a GPU, 32×32 on the default CPU accelerator.</summary>
    public (int Rows, int Columns) TiledLargeBlock => (Library.GroupThreadsY * GemmTiledLargeKernel.MicroTile, Library.GroupThreadsX * GemmTiledLargeKernel.MicroTile);

    /// <summary>Queues C[m,n] = alpha·op(A)·op(B) + beta·C with <paramref name="variant"/>, under the library GEMM's contract.</summary>
    public void Gemm(GemmVariant variant, ArrayView<float> a, bool transposeA, ArrayView<float> b, bool transposeB, ArrayView<float> c, int m, int n, int k, float alpha, float beta)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        var args = new GemmArguments(transposeA, transposeB, m, n, k, alpha, beta);
        switch (variant)
        {
            case GemmVariant.Naive:
                naive ??= accelerator.LoadAutoGroupedStreamKernel<Index2D, GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmNaiveKernel.Run);
                naive(new Index2D(n, m), args, a, b, c);
                break;
            case GemmVariant.Tiled:
                Library.Gemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
                break;
            case GemmVariant.TiledSplitK:
                TiledSplitK(args, a, b, c, GemmSplitKPlan.For(m, n, k, Library.TiledBlock, Library.TileDepth, accelerator.NumMultiprocessors));
                break;
            case GemmVariant.TiledLarge:
                tiledLarge ??= Library.UsesGpuTile
                    ? accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledLargeKernel.Run<GemmTileGpu>)
                    : accelerator.LoadStreamKernel<GemmArguments, ArrayView<float>, ArrayView<float>, ArrayView<float>>(GemmTiledLargeKernel.Run<GemmTileCpu>);
                tiledLarge(Library.LaunchShape(TiledLargeBlock, m, n), args, a, b, c);
                break;
            case GemmVariant.CuBlas:
                CuBlasGemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(variant), variant, "Unknown ILGPU GEMM variant.");
        }
    }

    /// <summary>
    /// Queues the tiled GEMM split along k as <paramref name="plan"/> says: the tiled kernel writes each slice's partial sums,
    /// then <see cref="GemmSplitKReduceKernel"/> sums them into C with alpha and beta. An unsplit plan runs the tiled kernel alone.
    /// Tests force a split the accelerator would not choose.
    /// </summary>
    public void TiledSplitK(GemmArguments args, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmSplitKPlan plan)
    {
        if (plan.Slices <= 1)
        {
            Library.Tiled(args, a, b, c);
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
    /// caller's kernel adds the slices (the fused LSTM backward step does it with the cell, <see cref="Recurrence.FusedStepsRecurrence"/>).
    /// </summary>
    public ArrayView<float> TiledSlices(GemmArguments args, ArrayView<float> a, ArrayView<float> b, GemmSplitKPlan plan)
    {
        long partialsLength = (long)plan.Slices * args.M * args.N;
        if (partialsLength > int.MaxValue)
        {
            throw new NotSupportedException($"The split-k GEMM indexes with 32-bit offsets; {plan.Slices} slices of [{args.M}x{args.N}] need 2³¹ partial sums or more.");
        }

        var slicePartials = Partials(partialsLength);
        Library.Tiled(args.SplitK(plan.SliceDepth), a, b, slicePartials, plan.Slices);
        return slicePartials;
    }

    public void Dispose()
    {
        partials?.Dispose();
        partials = null;
        cuBlas?.Dispose();
        cuBlas = null;
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
