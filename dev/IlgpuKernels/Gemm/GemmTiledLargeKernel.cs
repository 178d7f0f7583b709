using ILGPU;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>
/// The tiled GEMM of <see cref="GemmTiledKernel"/> with an 8×8 register tile per thread instead of 4×4:
/// twice the block edge for the same group (a 128×128 block of C for 16×16 threads), and 64 FMAs per
/// 16 shared-memory loads instead of 16 per 8, which matters once shared-memory bandwidth limits the
/// 4×4 kernel on big shapes. The cost is 64 accumulators per thread and fewer groups on small shapes.
/// Same layout handling, strided micro-tile, padded k-major slabs and edge rules as <see cref="GemmTiledKernel"/>.
/// Launch with <c>KernelConfig(grid: (⌈n/BN⌉, ⌈m/BM⌉), group: (ThreadsX, ThreadsY))</c>, BM = 8·ThreadsY, BN = 8·ThreadsX.
/// </summary>
internal static class GemmTiledLargeKernel
{
    /// <summary>Each thread computes MicroTile × MicroTile elements of C.</summary>
    public const int MicroTile = 8;

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
        var aSlab = SharedMemory.Allocate1D<float>(depth * (default(TTile).ThreadsY * MicroTile + 1));
        var bSlab = SharedMemory.Allocate1D<float>(depth * (default(TTile).ThreadsX * MicroTile + 1));

        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int thread = (ty * threadsX) + tx;
        int rowBase = Grid.IdxY * blockM;
        int columnBase = Grid.IdxX * blockN;
        int lastRow = args.M - 1;
        int lastColumn = args.N - 1;
        int lastDepth = args.K - 1;

        GemmRow8 c0 = default, c1 = default, c2 = default, c3 = default;
        GemmRow8 c4 = default, c5 = default, c6 = default, c7 = default;

        for (int k0 = 0; k0 < args.K; k0 += depth)
        {
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
                float value = a[(Min(i, lastRow) * args.ARowStride) + (Min(kk, lastDepth) * args.ADepthStride)];
                aSlab[(p * aPitch) + row] = i <= lastRow && kk <= lastDepth ? value : 0f;
            }

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
                float value = b[(Min(kk, lastDepth) * args.BDepthStride) + (Min(j, lastColumn) * args.BColumnStride)];
                bSlab[(p * bPitch) + column] = j <= lastColumn && kk <= lastDepth ? value : 0f;
            }

            Group.Barrier();

            for (int p = 0; p < depth; p++)
            {
                int bOffset = (p * bPitch) + tx;
                GemmRow8 bRow;
                bRow.V0 = bSlab[bOffset];
                bRow.V1 = bSlab[bOffset + threadsX];
                bRow.V2 = bSlab[bOffset + (2 * threadsX)];
                bRow.V3 = bSlab[bOffset + (3 * threadsX)];
                bRow.V4 = bSlab[bOffset + (4 * threadsX)];
                bRow.V5 = bSlab[bOffset + (5 * threadsX)];
                bRow.V6 = bSlab[bOffset + (6 * threadsX)];
                bRow.V7 = bSlab[bOffset + (7 * threadsX)];

                int aOffset = (p * aPitch) + ty;
                c0.MultiplyAdd(aSlab[aOffset], bRow);
                c1.MultiplyAdd(aSlab[aOffset + threadsY], bRow);
                c2.MultiplyAdd(aSlab[aOffset + (2 * threadsY)], bRow);
                c3.MultiplyAdd(aSlab[aOffset + (3 * threadsY)], bRow);
                c4.MultiplyAdd(aSlab[aOffset + (4 * threadsY)], bRow);
                c5.MultiplyAdd(aSlab[aOffset + (5 * threadsY)], bRow);
                c6.MultiplyAdd(aSlab[aOffset + (6 * threadsY)], bRow);
                c7.MultiplyAdd(aSlab[aOffset + (7 * threadsY)], bRow);
            }

            Group.Barrier();
        }

        int i0 = rowBase + ty;
        int j0 = columnBase + tx;
        StoreRow(args, c, i0, j0, threadsX, c0);
        StoreRow(args, c, i0 + threadsY, j0, threadsX, c1);
        StoreRow(args, c, i0 + (2 * threadsY), j0, threadsX, c2);
        StoreRow(args, c, i0 + (3 * threadsY), j0, threadsX, c3);
        StoreRow(args, c, i0 + (4 * threadsY), j0, threadsX, c4);
        StoreRow(args, c, i0 + (5 * threadsY), j0, threadsX, c5);
        StoreRow(args, c, i0 + (6 * threadsY), j0, threadsX, c6);
        StoreRow(args, c, i0 + (7 * threadsY), j0, threadsX, c7);
    }

    private static void StoreRow(GemmArguments args, ArrayView<float> c, int i, int j, int step, GemmRow8 row)
    {
        if (i >= args.M)
        {
            return;
        }

        StoreAt(args, c, i, j, row.V0);
        StoreAt(args, c, i, j + step, row.V1);
        StoreAt(args, c, i, j + (2 * step), row.V2);
        StoreAt(args, c, i, j + (3 * step), row.V3);
        StoreAt(args, c, i, j + (4 * step), row.V4);
        StoreAt(args, c, i, j + (5 * step), row.V5);
        StoreAt(args, c, i, j + (6 * step), row.V6);
        StoreAt(args, c, i, j + (7 * step), row.V7);
    }

    private static void StoreAt(GemmArguments args, ArrayView<float> c, int i, int j, float sum)
    {
        if (j < args.N)
        {
            args.Store(c, i, j, sum);
        }
    }

    private static int Min(int x, int y) => x < y ? x : y;
}
