using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The AVX2 GEMM microkernel: a 6-row × 16-column tile of C held in 12 Vector256 accumulators,
/// leaving 4 of AVX2's 16 registers for the two B vectors and the A broadcast (the BLIS haswell shape).
/// </summary>
internal static unsafe class GemmMicrokernel256
{
    public const int Mr = 6;
    public const int Nr = 16;

    /// <summary>
    /// C[0..rows, 0..cols] = alpha·(A panel · B sliver) + beta·C over kc steps. The A panel is kc × 6 (column of
    /// 6 rows per step), the B sliver kc × 16; both zero-padded, so the tile is always computed whole and only
    /// the store is clipped (through <paramref name="spill"/>, a scratch of Mr·Nr floats). beta = 0 never reads C.
    /// </summary>
    /// <remarks>
    /// alpha and beta come by reference and are read after the K loop, so no float argument stays in a register through
    /// it. With AVX-512 enabled, the JIT would otherwise put the A broadcast in ymm16, which only the EVEX encoding reaches,
    /// and on Zen 4 the EVEX vbroadcastss ymm, m32 also takes an FP pipe from the FMAs: this loop runs 16% slower so (the
    /// same loop in assembly, 97–99 against 116–117 GFLOP/s), and the Vector256 GEMM 95 against 105–109 on one thread.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, in float alpha, in float beta, float* spill)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }

        var va = Vector256.Create(alpha);
        if (rows == 6 && cols == 16)
        {
            Store(c + (0 * ldc), c00, c01, va, beta);
            Store(c + (1 * ldc), c10, c11, va, beta);
            Store(c + (2 * ldc), c20, c21, va, beta);
            Store(c + (3 * ldc), c30, c31, va, beta);
            Store(c + (4 * ldc), c40, c41, va, beta);
            Store(c + (5 * ldc), c50, c51, va, beta);
            return;
        }

        // An edge tile: write the whole tile to scratch, then copy the valid part.
        Store(spill + 0, c00, c01, va, 0f);
        Store(spill + 16, c10, c11, va, 0f);
        Store(spill + 32, c20, c21, va, 0f);
        Store(spill + 48, c30, c31, va, 0f);
        Store(spill + 64, c40, c41, va, 0f);
        Store(spill + 80, c50, c51, va, 0f);
        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }

    /// <summary>
    /// <see cref="Run"/> for a tile of at most 8 columns (a gate's last sliver at H = 100's 4 or H = 200's 8): the first 8
    /// columns of the same packed sliver in 6 accumulators, half the FMAs of the whole tile. Each element's FMAs run in the
    /// same order as in <see cref="Run"/>, and the tile is stored the way Run stores an edge tile, so the floats are the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUpTo8Columns(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, in float alpha, in float beta, float* spill)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
            a += 6;
            b += 16;
        }

        // A partial tile always: alpha·acc into the spill's first 8 columns, then the clipped store, as Run's edge tiles.
        var va = Vector256.Create(alpha);
        Vector256.Store(va * c0, spill + (0 * Nr));
        Vector256.Store(va * c1, spill + (1 * Nr));
        Vector256.Store(va * c2, spill + (2 * Nr));
        Vector256.Store(va * c3, spill + (3 * Nr));
        Vector256.Store(va * c4, spill + (4 * Nr));
        Vector256.Store(va * c5, spill + (5 * Nr));
        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }

    /// <summary>
    /// <see cref="Run"/> for a tile of at most 4 rows (the last panel of a 100-row step, 16 panels of 6 and one of 4): the
    /// first 4 rows of the same packed panel in 8 accumulators, two thirds of the whole tile's FMAs. Each element's FMAs
    /// run in the same order as in <see cref="Run"/>, and the tile is stored the way Run stores an edge tile, so the
    /// floats are the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUpTo4Rows(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, in float alpha, in float beta, float* spill)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += 6;
            b += 16;
        }

        // A partial tile always: the 4 rows into the spill, then the clipped store, as Run's edge tiles.
        var va = Vector256.Create(alpha);
        Store(spill + 0, c00, c01, va, 0f);
        Store(spill + 16, c10, c11, va, 0f);
        Store(spill + 32, c20, c21, va, 0f);
        Store(spill + 48, c30, c31, va, 0f);
        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> acc0, Vector256<float> acc1, Vector256<float> alpha, float beta)
    {
        if (beta == 0f)
        {
            Vector256.Store(alpha * acc0, c + 0);
            Vector256.Store(alpha * acc1, c + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Vector256.Store(Vector256.FusedMultiplyAdd(alpha, acc0, vb * Vector256.Load(c + 0)), c + 0);
            Vector256.Store(Vector256.FusedMultiplyAdd(alpha, acc1, vb * Vector256.Load(c + 8)), c + 8);
        }
    }
}
