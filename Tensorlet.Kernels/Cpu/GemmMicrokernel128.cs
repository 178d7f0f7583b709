using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The 128-bit GEMM microkernel, the fast path on ARM64 (Neon), where Vector256 and Vector512 are not accelerated:
/// a 6-row × 8-column tile of C in 12 Vector128 accumulators, plus two B vectors and the A broadcast, 15 registers,
/// so it also fits x86's 16 XMM registers (where it is tested). On ARM64 each multiply-add is Neon's fmla by element
/// (A's lane picked by the instruction, no broadcast); elsewhere it is fused where the hardware has FMA (x86 with FMA3)
/// and a multiply then an add without.
/// </summary>
internal static unsafe class GemmMicrokernel128
{
    public const int Mr = 6;
    public const int Nr = 8;

    /// <summary>Same contract as <see cref="GemmMicrokernel512.Run"/>, on a 6 × 8 tile.</summary>
    /// <remarks>alpha and beta come by reference for the reason <see cref="GemmMicrokernel256.Run"/> gives (here xmm16).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, in float alpha, in float beta, float* spill)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b + 0);
            var b1 = Vector128.Load(b + 4);
            if (AdvSimd.Arm64.IsSupported)
            {
                // fmla by element: the six A values stay in two registers and each FMA picks its lane, rather than a
                // dup per row, which would take the same vector pipes as the FMAs (18 operations per k instead of 12).
                var a03 = Vector128.Load(a);
                var a45 = Vector64.Load(a + 4);
                c00 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c00, b0, a03, 0);
                c01 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c01, b1, a03, 0);
                c10 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c10, b0, a03, 1);
                c11 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c11, b1, a03, 1);
                c20 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c20, b0, a03, 2);
                c21 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c21, b1, a03, 2);
                c30 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c30, b0, a03, 3);
                c31 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c31, b1, a03, 3);
                c40 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c40, b0, a45, 0);
                c41 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c41, b1, a45, 0);
                c50 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c50, b0, a45, 1);
                c51 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c51, b1, a45, 1);
            }
            else
            {
                var a0 = Vector128.Create(a[0]);
                c00 = Vector128.MultiplyAddEstimate(a0, b0, c00);
                c01 = Vector128.MultiplyAddEstimate(a0, b1, c01);
                var a1 = Vector128.Create(a[1]);
                c10 = Vector128.MultiplyAddEstimate(a1, b0, c10);
                c11 = Vector128.MultiplyAddEstimate(a1, b1, c11);
                var a2 = Vector128.Create(a[2]);
                c20 = Vector128.MultiplyAddEstimate(a2, b0, c20);
                c21 = Vector128.MultiplyAddEstimate(a2, b1, c21);
                var a3 = Vector128.Create(a[3]);
                c30 = Vector128.MultiplyAddEstimate(a3, b0, c30);
                c31 = Vector128.MultiplyAddEstimate(a3, b1, c31);
                var a4 = Vector128.Create(a[4]);
                c40 = Vector128.MultiplyAddEstimate(a4, b0, c40);
                c41 = Vector128.MultiplyAddEstimate(a4, b1, c41);
                var a5 = Vector128.Create(a[5]);
                c50 = Vector128.MultiplyAddEstimate(a5, b0, c50);
                c51 = Vector128.MultiplyAddEstimate(a5, b1, c51);
            }

            a += 6;
            b += 8;
        }

        var va = Vector128.Create(alpha);
        if (rows == 6 && cols == 8)
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
        Store(spill + 8, c10, c11, va, 0f);
        Store(spill + 16, c20, c21, va, 0f);
        Store(spill + 24, c30, c31, va, 0f);
        Store(spill + 32, c40, c41, va, 0f);
        Store(spill + 40, c50, c51, va, 0f);
        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }

    /// <summary>
    /// <see cref="Run"/> for a tile of at most 4 rows (the last panel of a 100-row step, 16 panels of 6 and one of 4): the
    /// first 4 rows of the same packed panel in 8 accumulators, two thirds of the whole tile's multiply-adds. Each
    /// element's multiply-adds run in the same order and form as in <see cref="Run"/>, and the tile is stored the way Run
    /// stores an edge tile, so the floats are the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUpTo4Rows(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, in float alpha, in float beta, float* spill)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(b + 0);
            var b1 = Vector128.Load(b + 4);
            if (AdvSimd.Arm64.IsSupported)
            {
                var a03 = Vector128.Load(a);
                c00 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c00, b0, a03, 0);
                c01 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c01, b1, a03, 0);
                c10 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c10, b0, a03, 1);
                c11 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c11, b1, a03, 1);
                c20 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c20, b0, a03, 2);
                c21 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c21, b1, a03, 2);
                c30 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c30, b0, a03, 3);
                c31 = AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(c31, b1, a03, 3);
            }
            else
            {
                var a0 = Vector128.Create(a[0]);
                c00 = Vector128.MultiplyAddEstimate(a0, b0, c00);
                c01 = Vector128.MultiplyAddEstimate(a0, b1, c01);
                var a1 = Vector128.Create(a[1]);
                c10 = Vector128.MultiplyAddEstimate(a1, b0, c10);
                c11 = Vector128.MultiplyAddEstimate(a1, b1, c11);
                var a2 = Vector128.Create(a[2]);
                c20 = Vector128.MultiplyAddEstimate(a2, b0, c20);
                c21 = Vector128.MultiplyAddEstimate(a2, b1, c21);
                var a3 = Vector128.Create(a[3]);
                c30 = Vector128.MultiplyAddEstimate(a3, b0, c30);
                c31 = Vector128.MultiplyAddEstimate(a3, b1, c31);
            }

            a += 6;
            b += 8;
        }

        // A partial tile always: the 4 rows into the spill, then the clipped store, as Run's edge tiles.
        var va = Vector128.Create(alpha);
        Store(spill + 0, c00, c01, va, 0f);
        Store(spill + 8, c10, c11, va, 0f);
        Store(spill + 16, c20, c21, va, 0f);
        Store(spill + 24, c30, c31, va, 0f);
        GemmEdge.Store(spill, Nr, c, ldc, rows, cols, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector128<float> acc0, Vector128<float> acc1, Vector128<float> alpha, float beta)
    {
        if (beta == 0f)
        {
            Vector128.Store(alpha * acc0, c + 0);
            Vector128.Store(alpha * acc1, c + 4);
        }
        else
        {
            var vb = Vector128.Create(beta);
            Vector128.Store(Vector128.MultiplyAddEstimate(alpha, acc0, vb * Vector128.Load(c + 0)), c + 0);
            Vector128.Store(Vector128.MultiplyAddEstimate(alpha, acc1, vb * Vector128.Load(c + 4)), c + 4);
        }
    }
}
