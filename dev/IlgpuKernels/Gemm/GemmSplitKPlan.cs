using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>
/// How <see cref="GemmVariant.TiledSplitK"/> cuts the reduction dimension k: into <see cref="Slices"/> slices of
/// <see cref="SliceDepth"/> each (the last one shorter), run as extra groups along grid z and summed by a second kernel.
/// <para>
/// Why: a tiled GEMM launches one group per 64×64 block of C, and the LSTM's per-step GEMMs have few blocks and a long k.
/// At H = 512 the backward dh += d(pre)·W_hh is [100×2048]·[2048×512]: 2×8 = 16 groups, each summing k = 2048 alone,
/// on an H200 with 132 multiprocessors. Split 16 ways it becomes 256 groups of k = 128.
/// </para>
/// </summary>
/// <param name="Slices">How many slices k is cut into; 1 means the GEMM runs unsplit.</param>
/// <param name="SliceDepth">The depth of k per slice: k when unsplit, else a multiple of the tile depth.</param>
internal readonly record struct GemmSplitKPlan(int Slices, int SliceDepth)
{
    /// <summary>Groups wanted per multiprocessor before k is left whole.</summary>
    public const int GroupsPerMultiprocessor = 2;

    /// <summary>No slice is made shallower than this (four 16-deep tile steps), so each group's own work still hides its loads.</summary>
    public const int MinSliceDepth = 64;

    /// <summary>
    /// The plan for [m×k]·[k×n] in blocks of <paramref name="block"/>: enough slices for about
    /// <see cref="GroupsPerMultiprocessor"/> groups per multiprocessor, but none shallower than <see cref="MinSliceDepth"/>.
    /// A launch that already fills the accelerator is not split.
    /// </summary>
    public static GemmSplitKPlan For(int m, int n, int k, (int Rows, int Columns) block, int tileDepth, int multiprocessors)
    {
        long groups = (long)CeilDiv(m, block.Rows) * CeilDiv(n, block.Columns);
        long wanted = CeilDiv((long)GroupsPerMultiprocessor * Math.Max(1, multiprocessors), Math.Max(1, groups));
        long deepest = Math.Max(1, k / MinSliceDepth);
        return Split(k, (int)Math.Min(wanted, deepest), tileDepth);
    }

    /// <summary>
    /// k cut into at most <paramref name="slices"/> slices of equal depth, rounded up to a multiple of
    /// <paramref name="tileDepth"/>; the count is then recomputed, so no slice is empty.
    /// </summary>
    public static GemmSplitKPlan Split(int k, int slices, int tileDepth)
    {
        if (slices <= 1 || k <= tileDepth)
        {
            return new GemmSplitKPlan(1, k);
        }

        int depth = (int)(CeilDiv(CeilDiv(k, slices), tileDepth) * tileDepth);
        return new GemmSplitKPlan((int)CeilDiv(k, depth), depth);
    }

    private static long CeilDiv(long x, long y) => (x + y - 1) / y;
}
