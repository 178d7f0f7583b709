using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Copies GEMM operands into the layouts the microkernels stream through: contiguous, zero-padded,
/// one K step of a tile in consecutive floats. Packing costs O(size) and is paid back by the O(size·dim)
/// multiply that reads the packed data many times.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs rows [pc, pc+kc) of slivers [s0, s1) of op(B) into <paramref name="block"/>, K block pc's place in a
    /// <see cref="PackedMatrix"/> (sliver s at s·kc·NR). op(B)[p, j] is b[p·n + j], or b[j·k + p] when
    /// <paramref name="transposeB"/>. Untransposed, each row of B is read once, its NR-column pieces dealt out to the
    /// slivers: packing a sliver at a time read B in one strided pass per sliver, which took 7 ms against 0.9 ms for the
    /// 10 MB B of the LSTM 2×256 weight gradient on the AMD EPYC.
    /// </summary>
    public static void PackBBlock(float* b, bool transposeB, int k, int n, int pc, int kc, int nr, int s0, int s1, float* block)
    {
        if (transposeB)
        {
            for (int s = s0; s < s1; s++)
            {
                PackBSliverBlock(b, true, k, n, pc, kc, nr, s, block + ((long)s * kc * nr));
            }

            return;
        }

        // Whole slivers take an inline 64-byte copy per 16 floats (through CopyPadded this packing ran 3.5× slower).
        int whole = nr % 16 == 0 && Vector512.IsHardwareAccelerated ? Math.Min(s1, n / nr) : s0;
        for (int p = 0; p < kc; p++)
        {
            float* row = b + ((long)(pc + p) * n);
            int s = s0;
            for (; s < whole; s++)
            {
                float* src = row + (s * nr), dst = block + ((long)s * kc * nr) + (p * nr);
                for (int j = 0; j < nr; j += 16)
                {
                    Vector512.Store(Vector512.Load(src + j), dst + j);
                }
            }

            for (; s < s1; s++)
            {
                int j0 = s * nr;
                CopyPadded(row + j0, block + ((long)s * kc * nr) + (p * nr), Math.Min(nr, n - j0), nr);
            }
        }
    }

    /// <summary>
    /// Packs rows [pc, pc+kc) of sliver <paramref name="sliver"/> of op(B) into <paramref name="dst"/>: kc rows
    /// of NR floats, zero-padded past column n.
    /// </summary>
    public static void PackBSliverBlock(float* b, bool transposeB, int k, int n, int pc, int kc, int nr, int sliver, float* dst)
    {
        int j0 = sliver * nr;
        int cols = Math.Min(nr, n - j0);
        if (!transposeB)
        {
            for (int p = 0; p < kc; p++)
            {
                CopyPadded(b + ((long)(pc + p) * n) + j0, dst + (p * nr), cols, nr);
            }
        }
        else
        {
            // Read along B's rows (contiguous in p), write with stride NR: the destination block
            // (KC·NR floats) stays in L1 while it fills. Whole 8 × 8 squares go through an AVX transpose.
            int j8 = 0, p8 = Avx.IsSupported ? kc / 8 * 8 : 0;
            if (p8 > 0)
            {
                for (; j8 + 8 <= cols; j8 += 8)
                {
                    float* src = b + ((long)(j0 + j8) * k) + pc;
                    for (int p = 0; p < p8; p += 8)
                    {
                        CpuTranspose.Square8(src + p, k, dst + (p * nr) + j8, nr);
                    }
                }
            }

            for (int j = 0; j < nr; j++)
            {
                float* d = dst + j;
                if (j < cols)
                {
                    float* src = b + ((long)(j0 + j) * k) + pc;
                    for (int p = j < j8 ? p8 : 0; p < kc; p++)
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

    /// <summary>
    /// Packs rows [i0, i0+mc) × columns [pc, pc+kc) of op(A) into panels of MR rows: panel r holds, for each
    /// K step, MR consecutive floats (rows past m are zero). op(A)[i, p] is a[i·k + p], or a[p·m + i] when transposed.
    /// </summary>
    public static void PackA(float* a, bool transposeA, int m, int k, int i0, int mc, int pc, int kc, int mr, float* dst)
    {
        if (transposeA)
        {
            // A is stored [k, m]: each K step's MC floats lie in one row, and a panel takes 8 of them (32 bytes) per step.
            // Walk four panels at a time down the rows: each row's two lines are read once, whole, and each panel is
            // written in order, a line every second step. Walking row by row instead dealt each row out to all the
            // panels, whose lines (KC·MR floats apart, 8 KB at KC 256: all in one L1 set) were then written in halves
            // two steps apart and evicted in between; on the AMD EPYC (Zen 5) the weight gradient [1024×256×9900]
            // (`gemm --cold`, 1 thread) ran 188–197 GFLOP/s this way against 169–184.
            int wholePanels = mr == 8 && Vector256.IsHardwareAccelerated ? mc / 8 * 8 : 0;
            int ir = 0;
            for (; ir + 32 <= wholePanels; ir += 32)
            {
                float* src = a + ((long)pc * m) + i0 + ir;
                float* panel = dst + ((long)ir * kc);
                int panelFloats = 8 * kc;
                for (int p = 0; p < kc; p++)
                {
                    Vector256.Store(Vector256.Load(src), panel);
                    Vector256.Store(Vector256.Load(src + 8), panel + panelFloats);
                    Vector256.Store(Vector256.Load(src + 16), panel + (2 * panelFloats));
                    Vector256.Store(Vector256.Load(src + 24), panel + (3 * panelFloats));
                    src += m;
                    panel += 8;
                }
            }

            for (; ir < wholePanels; ir += 8)
            {
                float* src = a + ((long)pc * m) + i0 + ir;
                float* panel = dst + ((long)ir * kc);
                for (int p = 0; p < kc; p++)
                {
                    Vector256.Store(Vector256.Load(src), panel);
                    src += m;
                    panel += 8;
                }
            }

            for (; ir < mc; ir += mr)
            {
                float* src = a + ((long)pc * m) + i0 + ir;
                float* panel = dst + ((long)ir * kc);
                int rows = Math.Min(mr, mc - ir);
                for (int p = 0; p < kc; p++)
                {
                    CopyPadded(src, panel, rows, mr);
                    src += m;
                    panel += mr;
                }
            }

            return;
        }

        for (int ir = 0; ir < mc; ir += mr)
        {
            int rows = Math.Min(mr, mc - ir);
            float* panel = dst + ((long)ir * kc);

            // A full 8-row panel is a sequence of 8 × 8 transposes (8 rows × 8 K steps each).
            int p8 = 0;
            if (mr == 8 && rows == 8 && Avx.IsSupported)
            {
                p8 = kc / 8 * 8;
                float* src = a + ((long)(i0 + ir) * k) + pc;
                for (int p = 0; p < p8; p += 8)
                {
                    CpuTranspose.Square8(src + p, k, panel + (p * 8), 8);
                }
            }

            for (int i = 0; i < mr; i++)
            {
                float* d = panel + i;
                if (i < rows)
                {
                    float* src = a + ((long)(i0 + ir + i) * k) + pc;
                    for (int p = p8; p < kc; p++)
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
    }

    /// <summary>
    /// dst[0..count) = src[0..count), then zeros up to <paramref name="width"/>. The rows are short (8–32 floats), so
    /// whole 8-float chunks go through Vector256 registers (4-float chunks through Vector128, all of it on ARM64) rather
    /// than a memmove call per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyPadded(float* src, float* dst, int count, int width)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= count; j += 8)
            {
                Vector256.Store(Vector256.Load(src + j), dst + j);
            }
        }

        if (Vector128.IsHardwareAccelerated)
        {
            for (; j + 4 <= count; j += 4)
            {
                Vector128.Store(Vector128.Load(src + j), dst + j);
            }
        }

        for (; j < count; j++)
        {
            dst[j] = src[j];
        }

        for (; j < width; j++)
        {
            dst[j] = 0f;
        }
    }
}
