using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The scalar arguments of one GEMM launch, C[m,n] = alpha·op(A)·op(B) + beta·C with dense row-major storage.
/// The four transpose layouts are folded into element strides, so one kernel body serves all of them:
/// op(A)[i,p] = a[i·ARowStride + p·ADepthStride] and op(B)[p,j] = b[p·BDepthStride + j·BColumnStride].
/// Offsets are 32-bit: every operand must hold fewer than 2³¹ elements (the backend checks).
/// Public only because ILGPU's CPU accelerator emits a task type holding kernel arguments, which must see their types.
/// </summary>
internal readonly struct GemmArguments
{
    /// <summary>Rows of C and of op(A).</summary>
    public readonly int M;

    /// <summary>Columns of C and of op(B).</summary>
    public readonly int N;

    /// <summary>The shared (reduction) dimension.</summary>
    public readonly int K;

    /// <summary>Scales op(A)·op(B).</summary>
    public readonly float Alpha;

    /// <summary>Scales the old C; 0 means C is not read.</summary>
    public readonly float Beta;

    /// <summary>Distance between rows i of op(A): k when A is stored [m,k], 1 when stored [k,m].</summary>
    public readonly int ARowStride;

    /// <summary>Distance between depths p of op(A): 1 when A is stored [m,k], m when stored [k,m].</summary>
    public readonly int ADepthStride;

    /// <summary>Distance between depths p of op(B): n when B is stored [k,n], 1 when stored [n,k].</summary>
    public readonly int BDepthStride;

    /// <summary>Distance between columns j of op(B): 1 when B is stored [k,n], k when stored [n,k].</summary>
    public readonly int BColumnStride;

    /// <summary>1 when A is stored [k,m] (transposed), else 0; picks the coalesced tile-load order. An int, not a bool, so the struct marshals the same everywhere.</summary>
    public readonly int TransposeA;

    /// <summary>1 when B is stored [n,k] (transposed), else 0.</summary>
    public readonly int TransposeB;

    /// <summary>
    /// The depth of k that one slice of a <see cref="GemmTiledKernel"/> launch covers: the groups at grid z sum p in
    /// [z·KSlice, min(K, (z+1)·KSlice)). K when k is not split (one slice). The other kernels take k whole and require that.
    /// </summary>
    public readonly int KSlice;

    /// <summary>
    /// 0 when k is not split. Otherwise the elements between slices of the partial sums: slice z stores its raw sum at
    /// c[z·SliceStride + i·N + j] (Alpha is 1 and Beta 0), and a reduction applies alpha and beta afterwards.
    /// </summary>
    public readonly int SliceStride;

    /// <summary>Folds the transpose flags into strides for dense row-major operands.</summary>
    public GemmArguments(bool transposeA, bool transposeB, int m, int n, int k, float alpha, float beta)
    {
        M = m;
        N = n;
        K = k;
        Alpha = alpha;
        Beta = beta;
        ARowStride = transposeA ? 1 : k;
        ADepthStride = transposeA ? m : 1;
        BDepthStride = transposeB ? 1 : n;
        BColumnStride = transposeB ? k : 1;
        TransposeA = transposeA ? 1 : 0;
        TransposeB = transposeB ? 1 : 0;
        KSlice = k;
        SliceStride = 0;
    }

    private GemmArguments(GemmArguments whole, int kSlice)
    {
        this = whole;
        Alpha = 1f;
        Beta = 0f;
        KSlice = kSlice;
        SliceStride = whole.M * whole.N;
    }

    /// <summary>
    /// The same product split along k into slices of <paramref name="kSlice"/>: each slice of a <see cref="GemmTiledKernel"/> launch (grid z) writes its
    /// raw partial sum into its own [M, N] block of a partials buffer of ⌈K / kSlice⌉·M·N elements, which
    /// a reduction (the split-k variant in dev/IlgpuKernels) then sums into C with this product's alpha and beta.
    /// </summary>
    internal GemmArguments SplitK(int kSlice) => new(this, kSlice);

    /// <summary>Writes alpha·sum + beta·C[i,j] to C[i,j]; C is not read when beta is 0, so NaNs there do not propagate.</summary>
    public void Store(ArrayView<float> c, int i, int j, float sum)
    {
        int index = (i * N) + j;
        float value = Alpha * sum;
        if (Beta != 0f)
        {
            value += Beta * c[index];
        }

        c[index] = value;
    }
}
