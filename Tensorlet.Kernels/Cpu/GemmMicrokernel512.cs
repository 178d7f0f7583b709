using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The AVX-512 GEMM microkernel: an 8-row × 32-column tile of C held in 16 Vector512 accumulators.
/// Each K step loads two B vectors, broadcasts 8 A values and issues 16 FMAs: with two FMA ports and a
/// 4-cycle latency, 16 independent chains keep both ports busy, and 10 loads per 16 FMAs fit the load ports.
/// </summary>
internal static unsafe class GemmMicrokernel512
{
    public const int Mr = 8;
    public const int Nr = 32;

    /// <summary>
    /// C[0..rows, 0..cols] = alpha·(A panel · B sliver) + beta·C over kc steps. The A panel is kc × 8 (column of
    /// 8 rows per step), the B sliver kc × 32; both zero-padded, so the tile is always computed whole and only
    /// the store is clipped (through <paramref name="spill"/>, a scratch of Mr·Nr floats). beta = 0 never reads C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, float* spill)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            a += 8;
            b += 32;
        }

        StoreTile(c, ldc, rows, cols, alpha, beta, spill, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>
    /// <see cref="Run"/> with the panel's K steps <paramref name="aStep"/> floats apart instead of packed: a matrix whose
    /// rows are the K steps and whose 8 consecutive columns are the panel's rows, read in place. With
    /// <paramref name="prefetch"/>, each K step also asks for that address into L2 and moves it on by
    /// <paramref name="prefetchStep"/> floats, so the caller brings its next operands in while this tile computes.
    /// Written out apart from Run: Run with the step and the prefetch check in its loop ran the 2×512 training step
    /// about 1% slower (four alternated rounds on the AMD EPYC).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunStridedA(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, float* spill, int aStep, float* prefetch, int prefetchStep)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            var a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
            var a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            if (Sse.IsSupported && prefetch != null)
            {
                Sse.Prefetch1(prefetch);
                prefetch += prefetchStep;
            }

            a += aStep;
            b += 32;
        }

        StoreTile(c, ldc, rows, cols, alpha, beta, spill, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>
    /// <see cref="Run"/> for a tile of at most 4 rows (the last panel of an M that leaves 1–4 rows over, such as the LSTM's
    /// 100-row step): the same packed panel (8 floats per K step, the upper 4 zero) but only the first 4 rows'
    /// 8 accumulators, so the padding rows cost nothing. Each element's FMAs run in the same order as in <see cref="Run"/>,
    /// and the tile is stored the way Run stores an edge tile, so the floats are the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUpTo4Rows(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, float* spill)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            a += 8;
            b += 32;
        }

        // A partial tile always: StoreTile writes it through the spill, as Run does for its edge tiles.
        StoreTile(c, ldc, rows, cols, alpha, beta, spill, c00, c01, c10, c11, c20, c21, c30, c31, default, default, default, default, default, default, default, default);
    }

    /// <summary>
    /// <see cref="Run"/> for a tile of at most 16 columns (the last sliver of an N that leaves 1–16 columns over, or of a
    /// gate of a recurrent weight packed gate by gate, such as H = 200's 8): the same packed sliver (32 floats per K step,
    /// the upper 16 zero) but only the first 16 columns' 8 accumulators, so the padding columns cost nothing. Each
    /// element's FMAs run in the same order as in <see cref="Run"/>, and the tile is stored the way Run stores an edge
    /// tile, so the floats are the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUpTo16Columns(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, float* spill)
    {
        Vector512<float> c00 = default, c10 = default, c20 = default, c30 = default, c40 = default, c50 = default, c60 = default, c70 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            c00 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c00);
            c10 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c10);
            c20 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c20);
            c30 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c30);
            c40 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c40);
            c50 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c50);
            c60 = Vector512.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c60);
            c70 = Vector512.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c70);
            a += 8;
            b += 32;
        }

        // A partial tile always: StoreTile writes it through the spill, as Run does for its edge tiles.
        StoreTile(c, ldc, rows, cols, alpha, beta, spill, c00, default, c10, default, c20, default, c30, default, c40, default, c50, default, c60, default, c70, default);
    }

    /// <summary>
    /// <see cref="Run"/> for a tile of at most 8 columns (a gate's last sliver at H = 100's 4 or H = 200's 8): the first 8
    /// columns of the same packed sliver in 8 Vector256 accumulators. On a CPU that splits a 512-bit FMA into two 256-bit
    /// halves (Zen 4), that is half the work of <see cref="RunUpTo16Columns"/>. Each element's FMAs run in the same order
    /// as in <see cref="Run"/>, and the tile is stored the way Run stores an edge tile, so the floats are the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUpTo8Columns(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float alpha, float beta, float* spill)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
            c6 = Vector256.FusedMultiplyAdd(Vector256.Create(a[6]), b0, c6);
            c7 = Vector256.FusedMultiplyAdd(Vector256.Create(a[7]), b0, c7);
            a += 8;
            b += 32;
        }

        // A partial tile always: alpha·acc into the spill's first 8 columns, then the clipped store, as Run's edge tiles.
        var va = Vector256.Create(alpha);
        Vector256.Store(va * c0, spill + (0 * Nr));
        Vector256.Store(va * c1, spill + (1 * Nr));
        Vector256.Store(va * c2, spill + (2 * Nr));
        Vector256.Store(va * c3, spill + (3 * Nr));
        Vector256.Store(va * c4, spill + (4 * Nr));
        Vector256.Store(va * c5, spill + (5 * Nr));
        Vector256.Store(va * c6, spill + (6 * Nr));
        Vector256.Store(va * c7, spill + (7 * Nr));
        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }

    /// <summary>
    /// <see cref="Run"/> with A read in place instead of packed: row r of the tile starts at a + r·lda, its K steps
    /// contiguous. Rows past <paramref name="rows"/> read row 0 again (their results are never stored). Written out
    /// like <see cref="Run"/> rather than shared through a generic panel type: that version indexed the packed panel
    /// with two more instructions per broadcast and spilled accumulators in the loop, which a microkernel cannot afford.
    /// <paramref name="prefetch"/> and <paramref name="prefetchStep"/> are <see cref="Run"/>'s.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRowsOfA(int kc, float* a, long lda, int rows, float* b, float* c, int ldc, int cols, float alpha, float beta, float* spill, float* prefetch = null, int prefetchStep = 0)
    {
        float* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + (2 * lda) : a, a3 = rows > 3 ? a + (3 * lda) : a;
        float* a4 = rows > 4 ? a + (4 * lda) : a, a5 = rows > 5 ? a + (5 * lda) : a, a6 = rows > 6 ? a + (6 * lda) : a, a7 = rows > 7 ? a + (7 * lda) : a;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var x0 = Vector512.Create(a0[p]);
            c00 = Vector512.FusedMultiplyAdd(x0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector512.Create(a1[p]);
            c10 = Vector512.FusedMultiplyAdd(x1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector512.Create(a2[p]);
            c20 = Vector512.FusedMultiplyAdd(x2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector512.Create(a3[p]);
            c30 = Vector512.FusedMultiplyAdd(x3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x3, b1, c31);
            var x4 = Vector512.Create(a4[p]);
            c40 = Vector512.FusedMultiplyAdd(x4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x4, b1, c41);
            var x5 = Vector512.Create(a5[p]);
            c50 = Vector512.FusedMultiplyAdd(x5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x5, b1, c51);
            var x6 = Vector512.Create(a6[p]);
            c60 = Vector512.FusedMultiplyAdd(x6, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x6, b1, c61);
            var x7 = Vector512.Create(a7[p]);
            c70 = Vector512.FusedMultiplyAdd(x7, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x7, b1, c71);
            if (Sse.IsSupported && prefetch != null)
            {
                Sse.Prefetch1(prefetch);
                prefetch += prefetchStep;
            }

            b += 32;
        }

        StoreTile(c, ldc, rows, cols, alpha, beta, spill, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>Stores the 8 × 32 accumulators into C (whole tile), or through the spill scratch for an edge tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile(
        float* c,
        int ldc,
        int rows,
        int cols,
        float alpha,
        float beta,
        float* spill,
        Vector512<float> c00,
        Vector512<float> c01,
        Vector512<float> c10,
        Vector512<float> c11,
        Vector512<float> c20,
        Vector512<float> c21,
        Vector512<float> c30,
        Vector512<float> c31,
        Vector512<float> c40,
        Vector512<float> c41,
        Vector512<float> c50,
        Vector512<float> c51,
        Vector512<float> c60,
        Vector512<float> c61,
        Vector512<float> c70,
        Vector512<float> c71)
    {
        var va = Vector512.Create(alpha);
        if (rows == 8 && cols == 32)
        {
            Store(c + (0 * ldc), c00, c01, va, beta);
            Store(c + (1 * ldc), c10, c11, va, beta);
            Store(c + (2 * ldc), c20, c21, va, beta);
            Store(c + (3 * ldc), c30, c31, va, beta);
            Store(c + (4 * ldc), c40, c41, va, beta);
            Store(c + (5 * ldc), c50, c51, va, beta);
            Store(c + (6 * ldc), c60, c61, va, beta);
            Store(c + (7 * ldc), c70, c71, va, beta);
            return;
        }

        // An edge tile: write the whole tile to scratch, then copy the valid part.
        Store(spill + 0, c00, c01, va, 0f);
        Store(spill + 32, c10, c11, va, 0f);
        Store(spill + 64, c20, c21, va, 0f);
        Store(spill + 96, c30, c31, va, 0f);
        Store(spill + 128, c40, c41, va, 0f);
        Store(spill + 160, c50, c51, va, 0f);
        Store(spill + 192, c60, c61, va, 0f);
        Store(spill + 224, c70, c71, va, 0f);
        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector512<float> acc0, Vector512<float> acc1, Vector512<float> alpha, float beta)
    {
        if (beta == 0f)
        {
            Vector512.Store(alpha * acc0, c + 0);
            Vector512.Store(alpha * acc1, c + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.Store(Vector512.FusedMultiplyAdd(alpha, acc0, vb * Vector512.Load(c + 0)), c + 0);
            Vector512.Store(Vector512.FusedMultiplyAdd(alpha, acc1, vb * Vector512.Load(c + 16)), c + 16);
        }
    }
}
