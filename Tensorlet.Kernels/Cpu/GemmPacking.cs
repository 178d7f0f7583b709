using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Copies GEMM operands into the layouts the microkernels stream through: contiguous, zero-padded,
/// one K step of a tile in consecutive floats. Packing costs O(size) and is paid back by the O(size·dim)
/// multiply that reads the packed data many times.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs sliver <paramref name="sliver"/> (columns [sliver·NR, +NR) of op(B)) for every K block into
    /// <paramref name="packed"/> (see <see cref="PackedMatrix"/> for the layout).
    /// op(B)[p, j] is b[p·n + j], or b[j·k + p] when <paramref name="transposeB"/>.
    /// </summary>
    public static void PackBSliver(float* b, bool transposeB, int k, int n, int kcMax, int nr, int paddedN, int sliver, float* packed)
    {
        int j0 = sliver * nr;
        int cols = Math.Min(nr, n - j0);
        for (int pc = 0; pc < k; pc += kcMax)
        {
            int kc = Math.Min(kcMax, k - pc);
            float* dst = packed + ((long)pc * paddedN) + ((long)sliver * kc * nr);
            if (!transposeB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + ((long)(pc + p) * n) + j0;
                    float* d = dst + (p * nr);
                    Unsafe.CopyBlockUnaligned(d, src, (uint)cols * sizeof(float));
                    for (int j = cols; j < nr; j++)
                    {
                        d[j] = 0f;
                    }
                }
            }
            else
            {
                // Read along B's rows (contiguous in p), write with stride NR: the destination block
                // (KC·NR floats) stays in L1 while it fills.
                for (int j = 0; j < nr; j++)
                {
                    float* d = dst + j;
                    if (j < cols)
                    {
                        float* src = b + ((long)(j0 + j) * k) + pc;
                        for (int p = 0; p < kc; p++)
                        {
                            d[p * nr] = src[p];
                        }
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++)
                        {
                            d[p * nr] = 0f;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs rows [i0, i0+mc) × columns [pc, pc+kc) of op(A) into panels of MR rows: panel r holds, for each
    /// K step, MR consecutive floats (rows past m are zero). op(A)[i, p] is a[i·k + p], or a[p·m + i] when transposed.
    /// </summary>
    public static void PackA(float* a, bool transposeA, int m, int k, int i0, int mc, int pc, int kc, int mr, float* dst)
    {
        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + ((long)ir * kc);
            if (!transposeA)
            {
                for (int i = 0; i < mr; i++)
                {
                    float* d = panel + i;
                    if (i < rows)
                    {
                        float* src = a + ((long)(i0 + ir + i) * k) + pc;
                        for (int p = 0; p < kc; p++)
                        {
                            d[p * mr] = src[p];
                        }
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++)
                        {
                            d[p * mr] = 0f;
                        }
                    }
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + ((long)(pc + p) * m) + i0 + ir;
                    float* d = panel + (p * mr);
                    Unsafe.CopyBlockUnaligned(d, src, (uint)rows * sizeof(float));
                    for (int i = rows; i < mr; i++)
                    {
                        d[i] = 0f;
                    }
                }
            }
        }
    }
}
