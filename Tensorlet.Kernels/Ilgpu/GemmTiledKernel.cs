using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Shared-memory tiled GEMM with 4×4 register blocking. A group of ThreadsX×ThreadsY threads owns a
/// (4·ThreadsY)×(4·ThreadsX) block of C. Per step of <see cref="IGemmTile.Depth"/> along k, the group
/// stages an A slab [BK × BM] and a B slab [BK × BN] in shared memory (both k-major), then every thread
/// accumulates its 16 outputs in registers from 4 A values and 4 B values per k: 16 FMAs per 8 shared loads.
/// <para>
/// The micro-tile is strided, not contiguous: thread (tx, ty) owns rows ty + r·ThreadsY and columns
/// tx + s·ThreadsX. Neighbouring threads then read neighbouring shared-memory words (no bank conflicts,
/// no vector types needed) and write neighbouring words of C (coalesced).
/// Slab loads walk the operand's contiguous dimension with the thread index, so global reads coalesce in
/// all four layouts; the slabs are padded by one word per k-row to spread the transposing stores over banks.
/// Edges (m, n, k not multiples of the tile) load zeros and skip the stores; loads use clamped indices
/// so even a speculated load stays inside the operand.
/// </para>
/// Launch with <c>KernelConfig(grid: (⌈n/BN⌉, ⌈m/BM⌉, ⌈K/KSlice⌉), group: (ThreadsX, ThreadsY))</c>; grid z is 1 unless
/// <see cref="GemmArguments.SplitK"/> split k.
/// </summary>
internal static class GemmTiledKernel
{
    /// <summary>Each thread computes MicroTile × MicroTile elements of C.</summary>
    public const int MicroTile = 4;

    /// <summary>Rows of C per group.</summary>
    public static int BlockRows<TTile>()
        where TTile : struct, IGemmTile => default(TTile).ThreadsY * MicroTile;

    /// <summary>Columns of C per group.</summary>
    public static int BlockColumns<TTile>()
        where TTile : struct, IGemmTile => default(TTile).ThreadsX * MicroTile;

    /// <summary>The kernel; see the class summary for the launch shape.</summary>
    public static void Run<TTile>(GemmArguments args, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        where TTile : struct, IGemmTile
    {
        int threadsX = default(TTile).ThreadsX;
        int threadsY = default(TTile).ThreadsY;
        int depth = default(TTile).Depth;
        int threads = threadsX * threadsY;
        int blockM = threadsY * MicroTile;
        int blockN = threadsX * MicroTile;
        int aPitch = blockM + 1;
        int bPitch = blockN + 1;

        // Sizes are constants once TTile is known; ILGPU requires that of shared memory.
        var aSlab = SharedMemory.Allocate1D<float>(depth * (default(TTile).ThreadsY * MicroTile + 1));
        var bSlab = SharedMemory.Allocate1D<float>(depth * (default(TTile).ThreadsX * MicroTile + 1));

        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int thread = (ty * threadsX) + tx;
        int rowBase = Grid.IdxY * blockM;
        int columnBase = Grid.IdxX * blockN;
        int lastRow = args.M - 1;
        int lastColumn = args.N - 1;

        // This group's slice of k (all of it unless the launch splits k over grid z).
        int kBegin = Grid.IdxZ * args.KSlice;
        int kEnd = XMin(args.K, kBegin + args.KSlice);
        int lastDepth = kEnd - 1;

        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;

        for (int k0 = kBegin; k0 < kEnd; k0 += depth)
        {
            // Stage op(A)[rowBase.., k0..] as aSlab[p, row]: consecutive threads take consecutive
            // addresses of A's contiguous dimension (k when A is [m,k], m when A is stored [k,m]).
            for (int e = thread; e < blockM * depth; e += threads)
            {
                int row;
                int p;
                if (args.TransposeA != 0)
                {
                    p = e / blockM;
                    row = e - (p * blockM);
                }
                else
                {
                    row = e / depth;
                    p = e - (row * depth);
                }

                int i = rowBase + row;
                int kk = k0 + p;
                float value = a[(XMin(i, lastRow) * args.ARowStride) + (XMin(kk, lastDepth) * args.ADepthStride)];
                aSlab[(p * aPitch) + row] = i <= lastRow && kk <= lastDepth ? value : 0f;
            }

            // Stage op(B)[k0.., columnBase..] as bSlab[p, column], again along B's contiguous dimension.
            for (int e = thread; e < blockN * depth; e += threads)
            {
                int column;
                int p;
                if (args.TransposeB != 0)
                {
                    column = e / depth;
                    p = e - (column * depth);
                }
                else
                {
                    p = e / blockN;
                    column = e - (p * blockN);
                }

                int j = columnBase + column;
                int kk = k0 + p;
                float value = b[(XMin(kk, lastDepth) * args.BDepthStride) + (XMin(j, lastColumn) * args.BColumnStride)];
                bSlab[(p * bPitch) + column] = j <= lastColumn && kk <= lastDepth ? value : 0f;
            }

            Group.Barrier();

            for (int p = 0; p < depth; p++)
            {
                int aOffset = (p * aPitch) + ty;
                float a0 = aSlab[aOffset];
                float a1 = aSlab[aOffset + threadsY];
                float a2 = aSlab[aOffset + (2 * threadsY)];
                float a3 = aSlab[aOffset + (3 * threadsY)];
                int bOffset = (p * bPitch) + tx;
                float b0 = bSlab[bOffset];
                float b1 = bSlab[bOffset + threadsX];
                float b2 = bSlab[bOffset + (2 * threadsX)];
                float b3 = bSlab[bOffset + (3 * threadsX)];

                c00 += a0 * b0;
                c01 += a0 * b1;
                c02 += a0 * b2;
                c03 += a0 * b3;
                c10 += a1 * b0;
                c11 += a1 * b1;
                c12 += a1 * b2;
                c13 += a1 * b3;
                c20 += a2 * b0;
                c21 += a2 * b1;
                c22 += a2 * b2;
                c23 += a2 * b3;
                c30 += a3 * b0;
                c31 += a3 * b1;
                c32 += a3 * b2;
                c33 += a3 * b3;
            }

            // Nobody may overwrite the slabs while a slower thread still reads them.
            Group.Barrier();
        }

        // A slice of a split k stores into its own block of the partials.
        var output = c.SubView(Grid.IdxZ * (long)args.SliceStride, (long)args.M * args.N);
        int i0 = rowBase + ty;
        int j0 = columnBase + tx;
        StoreRow(args, output, i0, j0, threadsX, c00, c01, c02, c03);
        StoreRow(args, output, i0 + threadsY, j0, threadsX, c10, c11, c12, c13);
        StoreRow(args, output, i0 + (2 * threadsY), j0, threadsX, c20, c21, c22, c23);
        StoreRow(args, output, i0 + (3 * threadsY), j0, threadsX, c30, c31, c32, c33);
    }

    private static void StoreRow(GemmArguments args, ArrayView<float> c, int i, int j, int step, float s0, float s1, float s2, float s3)
    {
        if (i >= args.M)
        {
            return;
        }

        if (j < args.N)
        {
            args.Store(c, i, j, s0);
        }

        if (j + step < args.N)
        {
            args.Store(c, i, j + step, s1);
        }

        if (j + (2 * step) < args.N)
        {
            args.Store(c, i, j + (2 * step), s2);
        }

        if (j + (3 * step) < args.N)
        {
            args.Store(c, i, j + (3 * step), s3);
        }
    }

    private static int XMin(int x, int y) => x < y ? x : y;
}
