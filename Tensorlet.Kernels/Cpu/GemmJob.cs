namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// One GEMM call split into work items: blocks of MC rows of C, each over all N, so every A block is packed
/// exactly once. Each item loops over the K blocks, packs its A block into a per-thread buffer, and runs the
/// microkernel over every MR × NR tile, B sliver outermost so the sliver stays in L1 while the A panels
/// stream past it from L2 (B itself need not fit in L2: each sliver is fetched once per A block).
/// With too few row blocks to keep the threads busy (the LSTM's 100-row step), N is cut into several items
/// instead, and A is packed once up front into <c>sharedA</c> rather than once per item.
/// A class (not a struct) so that <see cref="RunItem"/> can be handed to Parallel.For without copying.
/// </summary>
internal sealed unsafe class GemmJob
{
    [ThreadStatic]
    private static float[]? aBuffer;

    private readonly GemmGeometry geometry;
    private readonly bool transposeA;
    private readonly int m, n, k, kc, paddedN;
    private readonly float alpha, beta;
    private readonly float* a, packedB, c;
    private readonly int mc, mBlocks, sliversPerItem, slivers;
    private float* sharedA;

    public GemmJob(GemmGeometry geometry, bool transposeA, int m, int n, int k, float alpha, float* a, float* packedB, int kc, int paddedN, float beta, float* c, int threads)
    {
        this.geometry = geometry;
        this.transposeA = transposeA;
        this.m = m;
        this.n = n;
        this.k = k;
        this.alpha = alpha;
        this.a = a;
        this.packedB = packedB;
        this.kc = kc;
        this.paddedN = paddedN;
        this.beta = beta;
        this.c = c;

        int mr = geometry.Mr;
        mc = Math.Min(geometry.Mc, (m + mr - 1) / mr * mr);
        mBlocks = (m + mc - 1) / mc;
        slivers = paddedN / geometry.Nr;
        sliversPerItem = slivers;

        // Few row blocks (the LSTM's 100-row recurrent step): cut N so every thread gets several items and
        // a thread slowed by the shared machine does not hold up the call.
        int wanted = threads <= 1 ? 1 : 4 * threads;
        if (mBlocks < wanted)
        {
            int nBlocksWanted = (wanted + mBlocks - 1) / mBlocks;
            sliversPerItem = Math.Max(1, (slivers + nBlocksWanted - 1) / nBlocksWanted);
        }

        NBlocks = (slivers + sliversPerItem - 1) / sliversPerItem;
        Items = mBlocks * NBlocks;
    }

    /// <summary>How many work items the call has.</summary>
    public int Items { get; }

    /// <summary>Whether the items share N, so A should be packed once up front (<see cref="SharedALength"/> floats).</summary>
    public bool SplitsN => NBlocks > 1;

    /// <summary>Floats of the whole packed A: M rounded up to MR, times K.</summary>
    public long SharedALength => (long)(m + geometry.Mr - 1) / geometry.Mr * geometry.Mr * k;

    private int NBlocks { get; }

    /// <summary>Packs all of op(A) into <paramref name="destination"/> (<see cref="SharedALength"/> floats): per K block, panels of MR rows.</summary>
    public void PackSharedA(float* destination, int threads)
    {
        sharedA = destination;
        long paddedM = (m + geometry.Mr - 1) / geometry.Mr * geometry.Mr;
        int kBlocks = (k + kc - 1) / kc;
        void PackBlock(int block)
        {
            int pc = block * kc;
            GemmPacking.PackA(a, transposeA, m, k, 0, m, pc, Math.Min(kc, k - pc), geometry.Mr, destination + (pc * paddedM));
        }

        if (threads <= 1 || kBlocks == 1)
        {
            for (int block = 0; block < kBlocks; block++)
            {
                PackBlock(block);
            }
        }
        else
        {
            Parallel.For(0, kBlocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, PackBlock);
        }
    }

    /// <summary>Computes one tile of C (rows block fastest, so one thread's consecutive items share B from L2).</summary>
    public void RunItem(int item)
    {
        int mBlock = item % mBlocks;
        int nBlock = item / mBlocks;
        int i0 = mBlock * mc;
        int rowsInBlock = Math.Min(mc, m - i0);
        int s0 = nBlock * sliversPerItem;
        int s1 = Math.Min(slivers, s0 + sliversPerItem);
        int mr = geometry.Mr, nr = geometry.Nr;

        int needed = (geometry.Mc * GemmGeometry.KcMax) + 16;
        if (aBuffer is null || aBuffer.Length < needed)
        {
            aBuffer = GC.AllocateUninitializedArray<float>(needed, pinned: true);
        }

        float* spill = stackalloc float[mr * nr];
        fixed (float* bufferStart = aBuffer)
        {
            float* aPacked = (float*)(((nint)bufferStart + 63) & ~(nint)63);
            for (int pc = 0; pc < k; pc += kc)
            {
                int kcLen = Math.Min(kc, k - pc);
                float* aBlock;
                if (sharedA != null)
                {
                    long paddedM = (m + mr - 1) / mr * mr;
                    aBlock = sharedA + (pc * paddedM) + ((long)i0 * kcLen);
                }
                else
                {
                    GemmPacking.PackA(a, transposeA, m, k, i0, rowsInBlock, pc, kcLen, mr, aPacked);
                    aBlock = aPacked;
                }

                // The first K block applies beta; later blocks accumulate onto it.
                float blockBeta = pc == 0 ? beta : 1f;
                float* bBlock = packedB + ((long)pc * paddedN);
                for (int s = s0; s < s1; s++)
                {
                    float* bSliver = bBlock + ((long)s * kcLen * nr);
                    int j0 = s * nr;
                    int cols = Math.Min(nr, n - j0);
                    for (int ir = 0; ir < rowsInBlock; ir += mr)
                    {
                        int rows = Math.Min(mr, rowsInBlock - ir);
                        float* aPanel = aBlock + ((long)ir * kcLen);
                        float* cTile = c + ((long)(i0 + ir) * n) + j0;
                        switch (geometry.Kind)
                        {
                            case GemmKernelKind.Vector512:
                                GemmMicrokernel512.Run(kcLen, aPanel, bSliver, cTile, n, rows, cols, alpha, blockBeta, spill);
                                break;
                            case GemmKernelKind.Vector256:
                                GemmMicrokernel256.Run(kcLen, aPanel, bSliver, cTile, n, rows, cols, alpha, blockBeta, spill);
                                break;
                            default:
                                GemmMicrokernelScalar.Run(kcLen, aPanel, bSliver, cTile, n, rows, cols, alpha, blockBeta, spill);
                                break;
                        }
                    }
                }
            }
        }
    }
}
