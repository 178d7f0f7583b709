namespace Tensorlet.Kernels.Cpu;

/// <summary>Which register-blocked microkernel a GEMM runs; it fixes the packed layouts (MR, NR).</summary>
internal enum GemmKernelKind
{
    /// <summary>8 rows × 32 columns, 16 Vector512 accumulators (AVX-512 has 32 registers).</summary>
    Vector512,

    /// <summary>6 rows × 16 columns, 12 Vector256 accumulators (AVX2 has 16 registers).</summary>
    Vector256,

    /// <summary>6 rows × 8 columns, 12 Vector128 accumulators (fits SSE's 16 registers and Neon's 32).</summary>
    Vector128,

    /// <summary>4 × 4 plain floats, for hardware without SIMD.</summary>
    Scalar,
}

/// <summary>
/// The blocking of one GEMM (Goto/BLIS): MR rows of packed A by NR columns (a "sliver") of packed B per microkernel
/// call, K cut into blocks of at most <see cref="KcMax"/>, M into row blocks of <see cref="Mc"/>. Made by
/// <see cref="For"/> from the microkernel and the caches; a <see cref="PackedMatrix"/> records the geometry it was
/// packed for, and only a GEMM with the same geometry may use it.
/// </summary>
/// <param name="Kind">The microkernel.</param>
/// <param name="Mr">Rows of its tile.</param>
/// <param name="Nr">Columns of its tile (one B sliver).</param>
/// <param name="KcMax">The deepest K block.</param>
/// <param name="McTarget">Rows of A packed per row block, before rounding down to MR.</param>
/// <param name="L2Bytes">One core's L2: above it a packed B is streamed from L3, and the next sliver is prefetched.</param>
/// <param name="ColumnChunk">Columns of C per chunk when a row block runs its K blocks chunk by chunk (0: never).</param>
/// <param name="ColumnChunkMaxK">The deepest K whose whole row block of A the chunked order packs at once.</param>
/// <param name="KcMaxInPlace">The deepest K block of a product whose long operand is read in place rather than packed
/// (<see cref="GemmFewRowsJob"/>).</param>
internal readonly record struct GemmGeometry(GemmKernelKind Kind, int Mr, int Nr, int KcMax, int McTarget, long L2Bytes, int ColumnChunk, int ColumnChunkMaxK, int KcMaxInPlace)
{
    /// <summary>The geometry this process's GEMMs use (<see cref="CpuKernelPlan.Machine"/>).</summary>
    public static GemmGeometry Machine => CpuKernelPlan.Machine.Gemm;

    /// <summary>Rows per A block: <see cref="McTarget"/> rounded down to a multiple of MR.</summary>
    public int Mc => Math.Max(Mr, McTarget / Mr * Mr);

    /// <summary>
    /// The blocking for a register width on given caches. Each size is a fraction of a cache, so that the same rule fits
    /// a 32 KiB and a 48 KiB L1, a 1 MiB and a 2 MiB L2, and each stops at 256, where the traffic it saves is already
    /// amortised (256 multiply-adds per load) and a larger block only crowds the caches:
    /// <list type="bullet">
    /// <item>KC: one B sliver (KC·NR floats) stays in L1 while the MR-row A panels stream past it from L2: the sliver takes
    /// at most the whole L1d, rounded down to a multiple of 64 (in [64, 256]). 48 KiB and 32 KiB both give 256 at NR = 32.
    /// A 3/4-of-L1 rule gave 192 on a 32 KiB L1, which cut the LSTM's K = 256 recurrent GEMM into two blocks and ran its
    /// training step slower.</item>
    /// <item>MC: one packed A block (MC·KC floats) takes at most a quarter of L2, leaving the rest to the B slivers
    /// streaming through and to C, rounded down to MR (in [MR, 256]). Each row block streams all of B once, so a
    /// smaller MC multiplies the B traffic of the weight gradients, whose B is many megabytes.</item>
    /// <item>Column chunks: a chunk of C (MC rows) takes at most a quarter of L2, rounded down to NR (at most 256
    /// columns); and a row block's A over all of K (MC·K floats) may take at most half of L2 (deeper K runs the plain
    /// order). 2 MiB gives K ≤ 1024, 1 MiB K ≤ 512.</item>
    /// <item>KC read in place: when the MR-column panels of the long operand are read where they lie, one row per K
    /// step, each 64-byte line of a row serves two panels in turn (16 floats, two panels of MR = 8), so the block's lines
    /// must stay in L1 beside the sliver: KC·(NR floats + 64 bytes) at most the whole L1d, rounded down to a multiple
    /// of 64 (in [64, 256]). On a 32 KiB L1 that is 128: on the AMD EPYC, one thread, the output head's weight gradient
    /// [32×512×9900] ran 102–105 GFLOP/s with KC 128, 99–100 with 160, 92–98 with 192–256.</item>
    /// </list>
    /// </summary>
    public static GemmGeometry For(CpuVectorWidth width, CpuCaches caches)
    {
        var (kind, mr, nr) = width switch
        {
            CpuVectorWidth.Vector512 => (GemmKernelKind.Vector512, GemmMicrokernel512.Mr, GemmMicrokernel512.Nr),
            CpuVectorWidth.Vector256 => (GemmKernelKind.Vector256, GemmMicrokernel256.Mr, GemmMicrokernel256.Nr),
            CpuVectorWidth.Vector128 => (GemmKernelKind.Vector128, GemmMicrokernel128.Mr, GemmMicrokernel128.Nr),
            _ => (GemmKernelKind.Scalar, GemmMicrokernelScalar.Mr, GemmMicrokernelScalar.Nr),
        };

        int kc = (int)Math.Clamp(caches.L1dBytes / (nr * sizeof(float)) / 64 * 64, 64, 256);
        int mc = (int)Math.Clamp(caches.L2Bytes / 4 / (kc * sizeof(float)) / mr * mr, mr, 256 / mr * mr);
        int chunk = (int)Math.Clamp(caches.L2Bytes / 4 / (mc * sizeof(float)) / nr * nr, nr, Math.Max(nr, 256 / nr * nr));
        int chunkMaxK = (int)(caches.L2Bytes / 2 / (mc * sizeof(float)));
        int kcInPlace = (int)Math.Clamp(caches.L1dBytes / ((nr * sizeof(float)) + 64) / 64 * 64, 64, 256);
        return new GemmGeometry(kind, mr, nr, kc, mc, caches.L2Bytes, chunk, chunkMaxK, kcInPlace);
    }

    /// <summary>The same geometry without the column-chunk order (tests compare the two orders' floats).</summary>
    public GemmGeometry WithoutColumnChunks() => this with { ColumnChunk = 0 };

    /// <summary>The K block actually used: K split into equal blocks of at most <see cref="KcMax"/>, so no block is a sliver-thin tail.</summary>
    public int KcFor(int k) => EqualBlocks(k, KcMax);

    /// <summary>The K block of a product whose long operand is read in place: as <see cref="KcFor"/>, at most <see cref="KcMaxInPlace"/>.</summary>
    public int KcInPlaceFor(int k) => EqualBlocks(k, KcMaxInPlace);

    private static int EqualBlocks(int k, int kcMax)
    {
        int blocks = Math.Max(1, (k + kcMax - 1) / kcMax);
        return Math.Max(1, (k + blocks - 1) / blocks);
    }
}
