using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One GEMM call split into work items, over the blocking of a <see cref="GemmGeometry"/>. Normally an item is a block
/// of MC rows of C over all of N, so every A block is packed exactly once: the item loops over the K blocks, packs its
/// A block into a per-thread buffer, and runs the microkernel over every MR × NR tile, B sliver outermost so the sliver
/// stays in L1 while the A panels stream past it from L2 (B need not fit in L2: each sliver is fetched once per A block).
/// Where that would stream a wide C through L2 once per K block, the item packs its A over all of K and runs the
/// K blocks inside chunks of columns instead (<see cref="RunTileInColumnChunks"/>).
/// With too few row blocks to keep the threads busy (the LSTM's 100-row step), N is cut into several items
/// instead; then A is packed once up front (<see cref="PackSharedA"/>), and a B that fits in L2, unless already
/// packed, is packed by each item for its own slivers just before use (<see cref="PackBPerItem"/>), while it is hot.
/// With <see cref="ShareRowBlocks"/>, a thread that runs out of row blocks helps finish those still running.
/// A struct: it is the body of the parallel item loop (<see cref="Run"/>), so a call allocates nothing.
/// </summary>
internal unsafe struct GemmJob : IParallelItems
{
    /// <summary>
    /// The fewest rows a row block needs for the next-sliver prefetch: the requests are spread over the block's panels,
    /// and a 100-row block (the LSTM's recurrent step, whose packed weights stay in L2 anyway) has too few.
    /// </summary>
    private const int MinRowsToPrefetchSlivers = 128;

    [ThreadStatic]
    private static float[]? aBuffer;

    [ThreadStatic]
    private static float[]? bBuffer;

    private readonly GemmGeometry geometry;
    private readonly bool transposeA;
    private readonly int m, n, k, kc, paddedN, paddedM;
    private readonly float alpha, beta;
    private readonly float* a, c;
    private readonly int mc, mBlocks, sliversPerItem, slivers;
    private float* packedB, sharedA, unpackedB;
    private bool transposeB;
    private bool prefetchC;

    // With a second C (SplitColumns): slivers from splitSliver on write it, and C holds only the first columns.
    private float* secondC;
    private int firstColumns, secondColumns, splitSliver;

    // With column groups (a PackedMatrix packed gate by gate): each group's groupSlivers slivers write its groupColumns
    // columns of C, which sit side by side; 0 without.
    private int groupSlivers, groupColumns;

    // With row-block sharing (ShareRowBlocks): a claims slot per row block, and the help items after the row blocks.
    private RowBlockClaims* claims;
    private int helpItems;

    public GemmJob(GemmGeometry geometry, bool transposeA, int m, int n, int k, float alpha, float* a, float beta, float* c, int threads)
    {
        this.geometry = geometry;
        this.transposeA = transposeA;
        this.m = m;
        this.n = n;
        this.k = k;
        this.alpha = alpha;
        this.a = a;
        this.beta = beta;
        this.c = c;

        int mr = geometry.Mr, nr = geometry.Nr;
        kc = geometry.KcFor(k);
        paddedN = (n + nr - 1) / nr * nr;
        paddedM = (m + mr - 1) / mr * mr;
        mc = Math.Min(geometry.Mc, paddedM);
        mBlocks = (m + mc - 1) / mc;

        // Row blocks are claimed one at a time, so a count that is not a multiple of the threads, or a short last block,
        // leaves threads idle in the last round: the GRU's 2×256 weight gradient [768×256×9800] made 3 blocks of 256 for
        // 2 threads, and its 2×128 one [384×128×9800] blocks of 256 and 128, so a thread sat out a third of each call.
        // Cut M into whole rounds of blocks as equal as MR allows instead (192 rows in both). Never larger than MC, so
        // the per-thread A buffer still fits; the floats do not depend on the blocking.
        if (threads > 1 && mBlocks >= threads)
        {
            int blocks = (mBlocks + threads - 1) / threads * threads;
            mc = ((m + blocks - 1) / blocks + mr - 1) / mr * mr;
            mBlocks = (m + mc - 1) / mc;
        }
        slivers = paddedN / nr;
        sliversPerItem = slivers;

        // Fewer row blocks than threads (the 100-row recurrent step): cut N, so every thread gets several items and
        // a thread slowed by a busy machine does not hold up the call; at most 1024 columns an item, to bound
        // the per-thread B buffer. With a row block per thread or more, items are row blocks: cutting N then would
        // pack all of A up front (40 MB for the 2×256 weight gradient [1024×256×9800]) and each B sliver once per
        // row block.
        int wanted = threads <= 1 ? 1 : 4 * threads;
        if (mBlocks < threads)
        {
            int nBlocksWanted = (wanted + mBlocks - 1) / mBlocks;
            sliversPerItem = Math.Clamp((slivers + nBlocksWanted - 1) / nBlocksWanted, 1, Math.Max(1, 1024 / nr));
        }

        NBlocks = (slivers + sliversPerItem - 1) / sliversPerItem;
        firstColumns = n;
        splitSliver = slivers;
    }

    /// <summary>How many work items the call has: its tiles, then with <see cref="ShareRowBlocks"/> a help item per thread but one.</summary>
    public readonly int Items => (mBlocks * NBlocks) + helpItems;

    /// <summary>
    /// Whether <see cref="ShareRowBlocks"/> applies: items are whole row blocks (at most <see cref="RowBlockClaims.MaxBlocks"/>,
    /// at least one per thread) run in the plain order, each packing its own A and reading a B packed whole, over at
    /// least two slivers. The weight gradients and the projections over all steps.
    /// </summary>
    public readonly bool CanShareRowBlocks(int threads)
        => threads > 1 && NBlocks == 1 && mBlocks >= threads && mBlocks <= RowBlockClaims.MaxBlocks && slivers > 1
        && sharedA == null && unpackedB == null && packedB != null && !KeepsCChunksInL2(slivers) && !WritesCRowsWhole(kc);

    /// <summary>
    /// Lets threads that run out of row blocks take over slivers of those still running (<see cref="RowBlockClaims"/>):
    /// adds <paramref name="threads"/> − 1 help items after the row blocks. <paramref name="slots"/> holds
    /// <see cref="RowBlocks"/> zeroed slots that outlive the call. Only where <see cref="CanShareRowBlocks"/>.
    /// </summary>
    public void ShareRowBlocks(RowBlockClaims* slots, int threads)
    {
        claims = slots;
        helpItems = threads - 1;
    }

    /// <summary>Whether the items cut N (so A is best packed once up front, and B per item).</summary>
    public bool SplitsN => NBlocks > 1;

    /// <summary>Floats of the whole packed A: M rounded up to MR, times K.</summary>
    public long SharedALength => (long)paddedM * k;

    /// <summary>The K block length the job uses (and a packed B must have been made with).</summary>
    public int Kc => kc;

    /// <summary>N rounded up to whole slivers.</summary>
    public int PaddedN => paddedN;

    private int NBlocks { get; }

    /// <summary>
    /// Has <see cref="RunTile"/> ask, while each tile runs, for the C tile in the same rows of the next sliver into L2.
    /// For a C that is not in cache when the call starts: the recurrence's per-step rows of gates and of dh, written by an
    /// earlier kernel over the whole sequence (tens of megabytes). The microkernel reads its C tile only after its K loop,
    /// so an unrequested tile is a miss it waits on. Asking for the next panel's tile (MR rows down) did not help on the
    /// AMD EPYC; asking a whole sliver ahead took the LSTM's 100-row recurrent step from 94 to 104 GFLOP/s on one thread.
    /// The large GEMMs, whose C stays in L2 across K blocks, gained nothing measurable, so it is off unless asked for.
    /// </summary>
    public void PrefetchCTiles() => prefetchC = Sse.IsSupported;

    /// <summary>
    /// Makes the job two products with one A: the first <paramref name="columns"/> columns of op(B) (rounded up to whole
    /// slivers) go to C [m, columns], and the slivers after them to <paramref name="c2"/> [m, <paramref name="columns2"/>].
    /// The job must have been made with n = columns rounded up to NR, plus columns2. Every element is computed as a job
    /// over that C alone computes it.
    /// </summary>
    public void SplitColumns(int columns, float* c2, int columns2)
    {
        int nr = geometry.Nr;
        if ((columns + nr - 1) / nr * nr + columns2 != n || prefetchC)
        {
            throw new ArgumentException($"A job of {n} columns cannot split into {columns} and {columns2}, or asks for C tiles ahead.");
        }

        firstColumns = columns;
        splitSliver = (columns + nr - 1) / nr;
        secondC = c2;
        secondColumns = columns2;
    }

    /// <summary>Uses a B packed whole beforehand (<see cref="PackedMatrix"/> layout, K blocks of <see cref="Kc"/>).</summary>
    public void UsePackedB(float* packed) => packedB = packed;

    /// <summary>
    /// A job over the packed <paramref name="b"/>: C [m, b.N] = alpha·op(A)·B + beta·C, each column group of B
    /// (<see cref="PackedMatrix.Groups"/>) writing its columns of C. Its slivers are numbered as B packs them: group g's
    /// are g·<see cref="PackedMatrix.GroupSlivers"/> onwards.
    /// </summary>
    public static GemmJob ForPackedB(PackedMatrix b, bool transposeA, int m, float alpha, float* a, float beta, float* c, int threads)
    {
        var job = new GemmJob(b.Geometry, transposeA, m, b.Groups == 1 ? b.N : b.PaddedN, b.K, alpha, a, beta, c, threads);
        if (b.Groups > 1)
        {
            job.groupSlivers = b.GroupSlivers;
            job.groupColumns = b.N / b.Groups;
            job.firstColumns = b.N;
        }

        job.UsePackedB(b.Data);
        return job;
    }

    /// <summary>Has every item pack the slivers it needs from op(B) itself (stored [k,n], or [n,k] when transposed).</summary>
    public void PackBPerItem(float* b, bool transposed)
    {
        unpackedB = b;
        transposeB = transposed;
    }

    /// <summary>Packs all of op(A) into <paramref name="destination"/> (<see cref="SharedALength"/> floats): per K block, panels of MR rows.</summary>
    public void PackSharedA(float* destination, int threads)
    {
        int kBlocks = (k + kc - 1) / kc;
        CpuParallel.ForItems(kBlocks, threads, new PackABlocks(a, transposeA, m, k, kc, geometry.Mr, paddedM, destination));
        sharedA = destination;
    }

    /// <summary>How many blocks of rows the job cuts M into.</summary>
    public readonly int RowBlocks => mBlocks;

    /// <summary>Rows per block (the last block may have fewer).</summary>
    public readonly int RowsPerBlock => mc;

    /// <summary>Computes one tile of C (row blocks fastest, so one thread's consecutive items share B slivers).</summary>
    public readonly void Run(int item)
    {
        if (item >= mBlocks * NBlocks)
        {
            HelpRowBlocks();
            return;
        }

        int mBlock = item % mBlocks;
        int nBlock = item / mBlocks;
        int s0 = nBlock * sliversPerItem;
        RunTile(mBlock, s0, Math.Min(slivers, s0 + sliversPerItem));
    }

    /// <summary>
    /// Computes row block <paramref name="mBlock"/> of C over B slivers [<paramref name="s0"/>, <paramref name="s1"/>)
    /// (columns s·NR onwards), on the calling thread. Any split of C into such tiles gives the same floats.
    /// </summary>
    /// <param name="mBlock">The row block.</param>
    /// <param name="s0">The first sliver.</param>
    /// <param name="s1">One past the last sliver.</param>
    /// <param name="sliverAfter">The sliver the caller runs next in the same rows, whose C tiles to ask for during the last
    /// sliver when <see cref="PrefetchCTiles"/> is on; −1 for none.</param>
    public readonly void RunTile(int mBlock, int s0, int s1, int sliverAfter = -1)
    {
        int i0 = mBlock * mc;
        int rowsInBlock = Math.Min(mc, m - i0);
        int mr = geometry.Mr, nr = geometry.Nr;
        if (sharedA == null && !transposeA && slivers == 1 && geometry.Kind == GemmKernelKind.Vector512)
        {
            RunOneSliverReadingA(i0, rowsInBlock);
            return;
        }

        if (KeepsCChunksInL2(s1 - s0))
        {
            RunTileInColumnChunks(i0, rowsInBlock, s0, s1);
            return;
        }

        bool prefetchSlivers = PrefetchesNextSliver(rowsInBlock);
        RowBlockClaims* slot = claims != null ? claims + mBlock : null;
        float[]? aScratch = sharedA == null ? CpuScratch.Pinned(ref aBuffer, geometry.Mc * geometry.KcMax) : null;
        float[]? bScratch = unpackedB != null ? CpuScratch.Pinned(ref bBuffer, geometry.KcMax * (s1 - s0) * nr) : null;
        float* spill = stackalloc float[mr * nr];
        fixed (float* aStart = aScratch, bStart = bScratch)
        {
            float* aPacked = CpuScratch.Align(aStart);
            float* bLocal = CpuScratch.Align(bStart);
            for (int pc = 0; pc < k; pc += kc)
            {
                int kcLen = Math.Min(kc, k - pc);
                float* aBlock;
                if (sharedA != null)
                {
                    aBlock = sharedA + ((long)pc * paddedM) + ((long)i0 * kcLen);
                }
                else
                {
                    GemmPacking.PackA(a, transposeA, m, k, i0, rowsInBlock, pc, kcLen, mr, aPacked);
                    aBlock = aPacked;
                }

                // The first K block applies beta; later blocks accumulate onto it.
                float blockBeta = pc == 0 ? beta : 1f;
                if (WritesCRowsWhole(kcLen))
                {
                    RunPanelsOuter(aBlock, kcLen, i0, rowsInBlock, s0, s1, blockBeta, spill);
                    continue;
                }

                if (slot != null)
                {
                    RunSharedKBlock(slot, aBlock, pc, kcLen, s0, s1, i0, rowsInBlock, blockBeta, spill, prefetchSlivers, sliverAfter);
                    continue;
                }

                int nextPc = pc + kc;
                bool prefetch = sharedA == null && nextPc < k;
                for (int s = s0; s < s1; s++)
                {
                    if (prefetch)
                    {
                        PrefetchABlockPart(i0, rowsInBlock, nextPc, Math.Min(kc, k - nextPc), s - s0, s1 - s0);
                    }

                    RunSliver(aBlock, pc, kcLen, s, s0, s1, i0, rowsInBlock, blockBeta, spill, bLocal, prefetchSlivers, sliverAfter);
                }
            }
        }

        if (slot != null)
        {
            slot->Finish();
        }
    }

    /// <summary>
    /// One K block of a shared row block, by its owner: opens the packed A block's slivers to helpers, runs those it
    /// claims, asks for the next A block a part per sliver it runs (the rest after), and waits for the helpers' slivers.
    /// </summary>
    private readonly void RunSharedKBlock(RowBlockClaims* slot, float* aBlock, int pc, int kcLen, int s0, int s1, int i0, int rowsInBlock, float blockBeta, float* spill, bool prefetchSlivers, int sliverAfter)
    {
        int count = s1 - s0, nextPc = pc + kc, ran = 0;
        slot->Publish(aBlock, pc, kcLen, count);
        for (int claimed; (claimed = slot->TryClaim()) >= 0;)
        {
            if (nextPc < k)
            {
                PrefetchABlockPart(i0, rowsInBlock, nextPc, Math.Min(kc, k - nextPc), ran, count);
            }

            RunSliver(aBlock, pc, kcLen, s0 + claimed, s0, s1, i0, rowsInBlock, blockBeta, spill, null, prefetchSlivers, sliverAfter);
            ran++;
        }

        for (int part = ran; part < count && nextPc < k; part++)
        {
            PrefetchABlockPart(i0, rowsInBlock, nextPc, Math.Min(kc, k - nextPc), part, count);
        }

        slot->WaitForHelpers(count - ran);
    }

    /// <summary>
    /// A help item: once the row blocks are all taken, joins the open one furthest behind and runs slivers of it until
    /// it is finished, then the next, until none is open. Claims are taken in K block order, so C sums as the owner's would.
    /// </summary>
    private readonly void HelpRowBlocks()
    {
        float* spill = stackalloc float[geometry.Mr * geometry.Nr];
        while (true)
        {
            int block = -1, behind = int.MaxValue;
            for (int b = 0; b < mBlocks; b++)
            {
                if (claims[b].IsOpen && claims[b].Epoch < behind)
                {
                    block = b;
                    behind = claims[b].Epoch;
                }
            }

            if (block < 0)
            {
                return;
            }

            RowBlockClaims* slot = claims + block;
            int i0 = block * mc, rowsInBlock = Math.Min(mc, m - i0);
            var spinner = default(SpinWait);
            int claimed;
            while ((claimed = slot->TryClaim()) != RowBlockClaims.Finished)
            {
                if (claimed == RowBlockClaims.NoneLeft)
                {
                    CpuThreadTeam.ThrowIfGangFailed();
                    spinner.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                var (aBlock, pc, kcLen) = slot->Block;
                RunSliver((float*)aBlock, pc, kcLen, claimed, 0, slivers, i0, rowsInBlock, pc == 0 ? beta : 1f, spill, null, false, -1);
                slot->Done();
            }
        }
    }

    /// <summary>
    /// Sliver <paramref name="s"/> (of the item's [<paramref name="s0"/>, <paramref name="s1"/>)) over one K block of the
    /// row block at <paramref name="i0"/>: its B sliver (packed per item into <paramref name="bLocal"/> when B is not packed
    /// whole), the requests for the next sliver and C tile where asked for, and the panels.
    /// </summary>
    private readonly void RunSliver(float* aBlock, int pc, int kcLen, int s, int s0, int s1, int i0, int rowsInBlock, float blockBeta, float* spill, float* bLocal, bool prefetchSlivers, int sliverAfter)
    {
        int nr = geometry.Nr, nextPc = pc + kc;
        float* bSliver;
        if (unpackedB != null)
        {
            bSliver = bLocal + ((long)(s - s0) * kcLen * nr);
            GemmPacking.PackBSliverBlock(unpackedB, transposeB, k, n, pc, kcLen, nr, s, bSliver);
        }
        else
        {
            bSliver = packedB + ((long)pc * paddedN) + ((long)s * kcLen * nr);
        }

        // The next sliver this item runs: s + 1 in this K block, or the first of its range in the next.
        float* nextSliver = null;
        int nextKcLen = 0;
        if (prefetchSlivers && s + 1 < s1)
        {
            nextSliver = bSliver + ((long)kcLen * nr);
            nextKcLen = kcLen;
        }
        else if (prefetchSlivers && nextPc < k)
        {
            nextKcLen = Math.Min(kc, k - nextPc);
            nextSliver = packedB + ((long)nextPc * paddedN) + ((long)s0 * nextKcLen * nr);
        }

        // C is cold only on its first read (the first K block); later blocks find it in L2.
        float* nextC = null;
        int cSliver = s + 1 < s1 ? s + 1 : sliverAfter;
        if (prefetchC && pc == 0 && blockBeta != 0f && cSliver >= 0)
        {
            nextC = CTile(cSliver, i0, out _, out _);
        }

        RunPanels(aBlock, kcLen, bSliver, s, i0, rowsInBlock, blockBeta, spill, nextSliver, nextKcLen, nextC);
    }

    /// <summary>
    /// Whether <see cref="RunTile"/> asks for the next B sliver into L2 while the current one runs: when the packed B is larger
    /// than one core's L2 (<see cref="GemmGeometry.L2Bytes"/>), so each sliver comes from L3 and its first touch would wait
    /// on it, and the row block has enough panels to spread the requests over (<see cref="MinRowsToPrefetchSlivers"/>).
    /// </summary>
    private readonly bool PrefetchesNextSliver(int rowsInBlock)
        => Sse.IsSupported && unpackedB == null && rowsInBlock >= MinRowsToPrefetchSlivers && (long)k * paddedN * sizeof(float) > geometry.L2Bytes;

    /// <summary>
    /// Whether to run a tile of <paramref name="tileSlivers"/> slivers in column chunks (<see cref="RunTileInColumnChunks"/>):
    /// when the tile is wider than a chunk, K has more than one block (so C is revisited) and a row block's A over all of K
    /// is small enough (<see cref="GemmGeometry.ColumnChunkMaxK"/>). Not when A is shared or B is packed per item: those
    /// paths keep their own order.
    /// </summary>
    private readonly bool KeepsCChunksInL2(int tileSlivers)
        => geometry.ColumnChunk > 0 && sharedA == null && unpackedB == null && kc < k && k <= geometry.ColumnChunkMaxK && tileSlivers * geometry.Nr > geometry.ColumnChunk;

    /// <summary>
    /// <see cref="RunTile"/> with the K loop inside chunks of <see cref="GemmGeometry.ColumnChunk"/> columns: the row block's
    /// A is packed over all of K first, then each chunk of C takes every K block while it is still in L2, instead of all of
    /// the row block's C streaming through L2 once per K block. Each element still sums its K blocks in the same order
    /// through the same microkernel, so the floats are the same as the plain order's.
    /// </summary>
    private readonly void RunTileInColumnChunks(int i0, int rowsInBlock, int s0, int s1)
    {
        int mr = geometry.Mr, nr = geometry.Nr;
        int paddedRows = (rowsInBlock + mr - 1) / mr * mr;
        int chunkSlivers = geometry.ColumnChunk / nr;
        float[] aScratch = CpuScratch.Pinned(ref aBuffer, geometry.Mc * k);
        float* spill = stackalloc float[mr * nr];
        fixed (float* aStart = aScratch)
        {
            // K block pc of the row block sits at pc·paddedRows: panels of MR rows × its kcLen steps.
            float* aWhole = CpuScratch.Align(aStart);
            for (int pc = 0; pc < k; pc += kc)
            {
                GemmPacking.PackA(a, transposeA, m, k, i0, rowsInBlock, pc, Math.Min(kc, k - pc), mr, aWhole + ((long)pc * paddedRows));
            }

            for (int chunk = s0; chunk < s1; chunk += chunkSlivers)
            {
                int chunkEnd = Math.Min(s1, chunk + chunkSlivers);
                for (int pc = 0; pc < k; pc += kc)
                {
                    int kcLen = Math.Min(kc, k - pc);
                    float blockBeta = pc == 0 ? beta : 1f;
                    for (int s = chunk; s < chunkEnd; s++)
                    {
                        float* bSliver = packedB + ((long)pc * paddedN) + ((long)s * kcLen * nr);
                        RunPanels(aWhole + ((long)pc * paddedRows), kcLen, bSliver, s, i0, rowsInBlock, blockBeta, spill);
                    }
                }
            }
        }
    }

    /// <summary>
    /// C[i0.., sliver s] (+)= the row block's packed A panels · one B sliver, over one K block of kcLen; with
    /// <paramref name="nextSliver"/>, each panel also asks for its share of that sliver's lines into L2, and with
    /// <paramref name="nextC"/> (row i0 of another sliver's columns of C), for that sliver's C tile in its rows.
    /// </summary>
    private readonly void RunPanels(float* aBlock, int kcLen, float* bSliver, int s, int i0, int rowsInBlock, float blockBeta, float* spill, float* nextSliver = null, int nextKcLen = 0, float* nextC = null)
    {
        int mr = geometry.Mr, nr = geometry.Nr;
        float* cBlock = CTile(s, i0, out int ldc, out int cols);
        int panels = (rowsInBlock + mr - 1) / mr;
        int nextLines = nextSliver == null ? 0 : nextKcLen * nr / 16;
        int linesPerPanel = (nextLines + panels - 1) / panels;
        for (int ir = 0; ir < rowsInBlock; ir += mr)
        {
            if (nextSliver != null)
            {
                int first = ir / mr * linesPerPanel, last = Math.Min(nextLines, first + linesPerPanel);
                for (int line = first; line < last; line++)
                {
                    Sse.Prefetch1(nextSliver + (line * 16));
                }
            }

            int rows = Math.Min(mr, rowsInBlock - ir);
            if (nextC != null)
            {
                float* tile = nextC + ((long)ir * ldc);
                for (int r = 0; r < rows; r++)
                {
                    // One request per 64-byte line of the tile's row (NR = 32 floats: two lines).
                    for (int f = 0; f < nr; f += 16)
                    {
                        Sse.Prefetch1(tile + ((long)r * ldc) + f);
                    }
                }
            }

            RunMicrokernel(aBlock + ((long)ir * kcLen), kcLen, bSliver, cBlock + ((long)ir * ldc), ldc, rows, cols, blockBeta, spill);
        }
    }

    /// <summary>
    /// Whether <see cref="RunTile"/> runs a K block panel by panel (<see cref="RunPanelsOuter"/>) rather than sliver by
    /// sliver: when K is one short block, at most a quarter of KC (the output head's input gradient dY·W_out, K the
    /// vocabulary), and B is packed whole. Each element of C then takes only K multiply-adds per store, so writing C is
    /// most of the call's memory traffic, and a small B (K·N floats) is cheap to read again for every panel.
    /// </summary>
    private readonly bool WritesCRowsWhole(int kcLen) => kcLen == k && 4 * k <= geometry.KcMax && packedB != null && unpackedB == null;

    /// <summary>
    /// C[i0.., slivers s0…s1) (+)= the row block's packed A panels · B, every sliver of a panel before the next panel, so
    /// that C is written MR whole rows at a time, in order, instead of an NR-column strip of every row per sliver.
    /// On the AMD EPYC the output head's input gradient [9900×H×32] with dY from memory took 0.86–0.91 ms this way
    /// against 0.88–0.97 at H = 256, and 1.70–1.74 against 2.48–2.62 at H = 512. Same tiles, same floats.
    /// </summary>
    private readonly void RunPanelsOuter(float* aBlock, int kcLen, int i0, int rowsInBlock, int s0, int s1, float blockBeta, float* spill)
    {
        int mr = geometry.Mr, nr = geometry.Nr;
        for (int ir = 0; ir < rowsInBlock; ir += mr)
        {
            int rows = Math.Min(mr, rowsInBlock - ir);
            for (int s = s0; s < s1; s++)
            {
                float* cBlock = CTile(s, i0, out int ldc, out int cols);
                float* bSliver = packedB + ((long)s * kcLen * nr);
                RunMicrokernel(aBlock + ((long)ir * kcLen), kcLen, bSliver, cBlock + ((long)ir * ldc), ldc, rows, cols, blockBeta, spill);
            }
        }
    }

    /// <summary>One tile: the geometry's microkernel on one packed A panel and one B sliver, or a narrower one for a tile of at most 8 columns (Vector512, Vector256), 16 columns or 4 rows (Vector512).</summary>
    private readonly void RunMicrokernel(float* aPanel, int kcLen, float* bSliver, float* cTile, int ldc, int rows, int cols, float blockBeta, float* spill)
    {
        switch (geometry.Kind)
        {
            case GemmKernelKind.Vector512 when cols <= 8:
                GemmMicrokernel512.RunUpTo8Columns(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector512 when cols <= 16:
                GemmMicrokernel512.RunUpTo16Columns(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector512 when rows <= 4:
                GemmMicrokernel512.RunUpTo4Rows(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector512:
                GemmMicrokernel512.Run(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector256 when cols <= 8:
                GemmMicrokernel256.RunUpTo8Columns(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector256 when rows <= 4:
                GemmMicrokernel256.RunUpTo4Rows(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector256:
                GemmMicrokernel256.Run(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector128 when rows <= 4:
                GemmMicrokernel128.RunUpTo4Rows(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            case GemmKernelKind.Vector128:
                GemmMicrokernel128.Run(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
            default:
                GemmMicrokernelScalar.Run(kcLen, aPanel, bSliver, cTile, ldc, rows, cols, alpha, blockBeta, spill);
                break;
        }
    }

    /// <summary>Where sliver <paramref name="s"/>'s columns of C start in row <paramref name="row"/>, that C's row length, and how many of the sliver's columns it has.</summary>
    private readonly float* CTile(int s, int row, out int ldc, out int cols)
    {
        int nr = geometry.Nr;
        if (groupSlivers > 0)
        {
            int group = s / groupSlivers, j = (s - (group * groupSlivers)) * nr;
            ldc = firstColumns;
            cols = Math.Min(nr, groupColumns - j);
            return c + ((long)row * firstColumns) + ((long)group * groupColumns) + j;
        }

        if (s >= splitSliver)
        {
            int j = (s - splitSliver) * nr;
            ldc = secondColumns;
            cols = Math.Min(nr, secondColumns - j);
            return secondC + ((long)row * secondColumns) + j;
        }

        ldc = firstColumns;
        cols = Math.Min(nr, firstColumns - (s * nr));
        return c + ((long)row * firstColumns) + (s * nr);
    }

    /// <summary>
    /// A GEMM whose op(B) is a single sliver (N ≤ NR: the LSTM's output head, N = 32) multiplies each A element by only
    /// NR columns, so packing A would cost as much memory traffic as the product; the microkernel reads the MR rows
    /// of A where they are instead (<see cref="GemmMicrokernel512.RunRowsOfA"/>). Same K blocks, same floats.
    /// The rows are too short a stream for the hardware prefetcher (MR rows of K floats each, then the next MR), so in
    /// the first K block each panel asks for the next panel's rows, whole, into L2: a panel's MR rows are MR·K contiguous
    /// floats. On the AMD EPYC the output head [9900×32×256] with h from memory went from 1.08–1.11 ms to 0.79–0.81.
    /// </summary>
    private readonly void RunOneSliverReadingA(int i0, int rowsInBlock)
    {
        int mr = geometry.Mr, nr = geometry.Nr;
        float[]? bScratch = unpackedB != null ? CpuScratch.Pinned(ref bBuffer, geometry.KcMax * nr) : null;
        float* spill = stackalloc float[mr * nr];
        fixed (float* bStart = bScratch)
        {
            float* bLocal = CpuScratch.Align(bStart);
            for (int pc = 0; pc < k; pc += kc)
            {
                int kcLen = Math.Min(kc, k - pc);
                float* bSliver = packedB + ((long)pc * paddedN);
                if (unpackedB != null)
                {
                    bSliver = bLocal;
                    GemmPacking.PackBSliverBlock(unpackedB, transposeB, k, n, pc, kcLen, nr, 0, bSliver);
                }

                float blockBeta = pc == 0 ? beta : 1f;
                for (int ir = 0; ir < rowsInBlock; ir += mr)
                {
                    int rows = Math.Min(mr, rowsInBlock - ir);
                    float* aRows = a + ((long)(i0 + ir) * k) + pc;
                    float* nextPanel = pc == 0 && ir + (2 * mr) <= rowsInBlock ? a + ((long)(i0 + ir + mr) * k) : null;
                    GemmMicrokernel512.RunRowsOfA(kcLen, aRows, k, rows, bSliver, c + ((long)(i0 + ir) * n), n, n, alpha, blockBeta, spill, nextPanel, ((mr * k) + kcLen - 1) / kcLen);
                }
            }
        }
    }

    /// <summary>
    /// Asks for part <paramref name="part"/> of <paramref name="parts"/> of the source of the A block that
    /// <see cref="GemmPacking.PackA"/> reads next, into L2, while this block's products run. The block is many short
    /// segments (for the weight gradient's transposed A, KC floats of each long row of d(pre)), too short for the hardware
    /// prefetcher to ramp up on, so unprefetched packing would wait on memory segment by segment.
    /// </summary>
    private readonly void PrefetchABlockPart(int i0, int rows, int pc, int kcLen, int part, int parts)
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        // Segments of op(A)'s block as stored: kcLen rows of `rows` floats (A transposed), or `rows` rows of kcLen floats.
        int segments = transposeA ? kcLen : rows;
        int segmentFloats = transposeA ? rows : kcLen;
        int first = (int)((long)segments * part / parts), last = (int)((long)segments * (part + 1) / parts);
        for (int seg = first; seg < last; seg++)
        {
            float* start = transposeA ? a + ((long)(pc + seg) * m) + i0 : a + ((long)(i0 + seg) * k) + pc;
            for (int f = 0; f < segmentFloats; f += 16)
            {
                Sse.Prefetch1(start + f);
            }

            // An unaligned segment ends in one more cache line.
            Sse.Prefetch1(start + segmentFloats - 1);
        }
    }

    /// <summary>K block i of op(A), packed into its place in the shared A.</summary>
    private readonly struct PackABlocks(float* a, bool transposeA, int m, int k, int kc, int mr, int paddedM, float* destination) : IParallelItems
    {
        public void Run(int item)
        {
            int pc = item * kc;
            GemmPacking.PackA(a, transposeA, m, k, 0, m, pc, Math.Min(kc, k - pc), mr, destination + ((long)pc * paddedM));
        }
    }
}
