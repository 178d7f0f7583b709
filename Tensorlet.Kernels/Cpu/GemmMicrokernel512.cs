using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
