namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// C[m, n] = alpha·Aᵀ·B + beta·C for A stored [k, m] with m ≤ NR, and B stored [k, n] with n a multiple of MR: a product
/// with few rows and a long K, such as the output head's weight gradient dYᵀ·h ([32 × H × T·B], m the vocabulary).
/// <para>
/// Each element of B takes part in only m multiply-adds, so packing B (the megabytes of h: a read, a write and a read
/// again) would triple the bytes the product moves. The job computes the transpose instead, Cᵀ = Bᵀ·A: A's K steps of m
/// floats are one B sliver as they lie (padded per K block when m &lt; NR), and each panel of MR columns of B is read
/// in place, one row of B per K step (<see cref="GemmMicrokernel512.RunStridedA"/> with a step of n), in K blocks of at
/// most <see cref="GemmGeometry.KcMaxInPlace"/> so that the block of A and the lines of B each pair of panels shares
/// stay in L1. Nothing of B is copied, and each of its elements is read once. An item is a range of panels; it
/// accumulates its tiles of Cᵀ in a per-thread buffer over the K blocks, with the same alpha and per-block beta as
/// <see cref="GemmJob"/>, and writes them into C transposed at the end, so every element is the float the packed path
/// gives for a whole tile. On the AMD EPYC, 2 threads, the output head's weight gradient [32×256×9900] with h from
/// memory took 0.86–0.93 ms this way against 1.25 packed (and up to 3.9 in the processes where packing h runs slow).
/// </para>
/// </summary>
internal readonly unsafe struct GemmFewRowsJob : IParallelItems
{
    [ThreadStatic]
    private static float[]? buffer;

    private readonly int m, n, k, kc, panelsPerItem;
    private readonly float alpha, beta;
    private readonly float* a, b, c;

    public GemmFewRowsJob(int m, int n, int k, int kc, float alpha, float* a, float* b, float beta, float* c, int threads)
    {
        this.m = m;
        this.n = n;
        this.k = k;
        this.kc = kc;
        this.alpha = alpha;
        this.a = a;
        this.b = b;
        this.beta = beta;
        this.c = c;

        // One item per thread: every item streams all of A (the small operand) through its K blocks once, so more
        // items would read A more often; each item's panels are a contiguous part of every row of B.
        int panels = n / Mr;
        int items = Math.Clamp(threads, 1, panels);
        panelsPerItem = (panels + items - 1) / items;
        Items = (panels + panelsPerItem - 1) / panelsPerItem;
    }

    private static int Mr => GemmMicrokernel512.Mr;

    private static int Nr => GemmMicrokernel512.Nr;

    /// <summary>How many work items the call has.</summary>
    public int Items { get; }

    /// <summary>Whether this job computes C = alpha·op(A)·op(B) + beta·C of this shape on this geometry.</summary>
    public static bool Handles(GemmGeometry geometry, bool transposeA, bool transposeB, int m, int n, int k)
        => geometry.Kind == GemmKernelKind.Vector512 && transposeA && !transposeB && m <= Nr && n % Mr == 0 && k > geometry.KcMax;

    /// <summary>Computes the columns of C of one range of panels.</summary>
    public void Run(int item)
    {
        int p0 = item * panelsPerItem;
        int p1 = Math.Min(n / Mr, p0 + panelsPerItem);
        int itemPanels = p1 - p0;
        int columns = itemPanels * Mr;
        int j0 = p0 * Mr;

        // The item's tiles of Cᵀ ([columns, NR]), then one padded K block of A when m < NR.
        int tileFloats = columns * Nr;
        float[] scratch = CpuScratch.Pinned(ref buffer, tileFloats + (m < Nr ? kc * Nr : 0));
        float* spill = stackalloc float[Mr * Nr];
        fixed (float* start = scratch)
        {
            float* ct = CpuScratch.Align(start);
            float* padded = ct + tileFloats;
            if (beta != 0f)
            {
                for (int j = 0; j < columns; j++)
                {
                    for (int i = 0; i < m; i++)
                    {
                        ct[(j * Nr) + i] = c[((long)i * n) + j0 + j];
                    }
                }
            }

            for (int pc = 0; pc < k; pc += kc)
            {
                int kcLen = Math.Min(kc, k - pc);
                float* sliver = a + ((long)pc * m);
                if (m < Nr)
                {
                    GemmPacking.PackBSliverBlock(a, false, k, m, pc, kcLen, Nr, 0, padded);
                    sliver = padded;
                }

                float blockBeta = pc == 0 ? beta : 1f;
                float* rows = b + ((long)pc * n) + j0;
                int nextPc = pc + kc;
                for (int p = 0; p < itemPanels; p++)
                {
                    float* next = null;
                    int nextStep = n;
                    if (nextPc < k)
                    {
                        next = NextBlockLines(p, nextPc, j0, ref nextStep);
                    }

                    GemmMicrokernel512.RunStridedA(kcLen, rows + (p * Mr), sliver, ct + (p * Mr * Nr), Nr, Mr, Nr, alpha, blockBeta, spill, aStep: n, prefetch: next, prefetchStep: nextStep);
                }
            }

            for (int i = 0; i < m; i++)
            {
                float* row = c + ((long)i * n) + j0;
                for (int j = 0; j < columns; j++)
                {
                    row[j] = ct[(j * Nr) + i];
                }
            }
        }
    }

    /// <summary>
    /// What panel <paramref name="p"/> asks for into L2 while it runs, one line per K step (<paramref name="step"/> floats
    /// apart), so that the next K block comes from L2 rather than memory; null for nothing. In a block the item's part of
    /// each row of B is a short segment, too short for the hardware prefetcher. Panel 2i asks for line i of the
    /// segments of the next block (two panels of MR floats make one 64-byte line), and panels 1 and 3 for the two lines
    /// of each row of A's next block when A is read in place (m = NR = 32 floats, 128 bytes a row).
    /// </summary>
    private readonly float* NextBlockLines(int p, int nextPc, int j0, ref int step)
    {
        if ((p & 1) == 0)
        {
            return b + ((long)nextPc * n) + j0 + (p / 2 * 16);
        }

        if (m == Nr && p < 4)
        {
            step = m;
            return a + ((long)nextPc * m) + (p == 1 ? 0 : 16);
        }

        return null;
    }
}
