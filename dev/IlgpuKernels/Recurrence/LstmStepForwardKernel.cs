using ILGPU;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Recurrence;

/// <summary>
/// One LSTM time step in one launch: the recurrent GEMM h_{t−1}·W_hhᵀ added to the step's input preactivations, then the
/// cell, with the four gates of a hidden unit computed by the same thread so the cell runs straight from its registers.
/// Step by step this is a GEMM launch and a cell launch per time step, about 400 launches per layer and batch.
/// <para>
/// The tiling is <see cref="GemmTiledKernel"/>'s, specialized to this product: a group of ThreadsX×ThreadsY threads owns
/// 4·ThreadsY batch rows and ThreadsX hidden units. Its "columns" are the four gate rows of W_hh per unit: column
/// g·ThreadsX + u of the group stands for W_hh row g·H + unitBase + u. Thread (tx, ty) accumulates batch rows
/// ty + r·ThreadsY (r &lt; 4) against the columns tx + g·ThreadsX, that is gates i, f, g, o of unit unitBase + tx.
/// Per step of <see cref="IGemmTile.Depth"/> along k = H, the group stages h_{t−1} [rows × depth] and W_hh [4 gates ×
/// units × depth] in shared memory (k-major, padded one word per row), both read along k, their contiguous dimension.
/// </para>
/// Launch with <c>KernelConfig(grid: (⌈H/ThreadsX⌉, ⌈B/(4·ThreadsY)⌉), group: (ThreadsX, ThreadsY))</c>.
/// </summary>
internal static class LstmStepForwardKernel
{
    /// <summary>Batch rows per thread; also the four gates per unit.</summary>
    public const int MicroTile = 4;

    /// <summary>
    /// gates [B, 4H] holds the step's input preactivations and receives the activated gates; hPrev, cPrev, c, h are [B, H];
    /// weightHh is [4H, H]. Writes c = f·cPrev + i·g and h = o·tanh(c) as <see cref="LstmCellKernels.ForwardAt"/> does.
    /// </summary>
    public static void Run<TTile>(
        ArrayView<float> hPrev, ArrayView<float> weightHh, ArrayView<float> gates, ArrayView<float> cPrev, ArrayView<float> c, ArrayView<float> h, int batch, int hidden)
        where TTile : struct, IGemmTile
    {
        int threadsX = default(TTile).ThreadsX;
        int threadsY = default(TTile).ThreadsY;
        int depth = default(TTile).Depth;
        int threads = threadsX * threadsY;
        int blockRows = threadsY * MicroTile;
        int blockColumns = threadsX * MicroTile;
        int aPitch = blockRows + 1;
        int bPitch = blockColumns + 1;

        var aSlab = SharedMemory.Allocate1D<float>(default(TTile).Depth * ((default(TTile).ThreadsY * MicroTile) + 1));
        var bSlab = SharedMemory.Allocate1D<float>(default(TTile).Depth * ((default(TTile).ThreadsX * MicroTile) + 1));

        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int thread = (ty * threadsX) + tx;
        int rowBase = Grid.IdxY * blockRows;
        int unitBase = Grid.IdxX * threadsX;
        int lastRow = batch - 1;
        int lastDepth = hidden - 1;
        int lastWeightRow = (4 * hidden) - 1;

        float i0 = 0f, f0 = 0f, g0 = 0f, o0 = 0f;
        float i1 = 0f, f1 = 0f, g1 = 0f, o1 = 0f;
        float i2 = 0f, f2 = 0f, g2 = 0f, o2 = 0f;
        float i3 = 0f, f3 = 0f, g3 = 0f, o3 = 0f;

        for (int k0 = 0; k0 < hidden; k0 += depth)
        {
            // hPrev[rowBase.., k0..] as aSlab[p, row]; consecutive threads read consecutive k of a row.
            for (int e = thread; e < blockRows * depth; e += threads)
            {
                int row = e / depth;
                int p = e - (row * depth);
                int b = rowBase + row;
                int k = k0 + p;
                float value = hPrev[(Min(b, lastRow) * hidden) + Min(k, lastDepth)];
                aSlab[(p * aPitch) + row] = b <= lastRow && k <= lastDepth ? value : 0f;
            }

            // W_hh rows g·H + unit as bSlab[p, g·ThreadsX + u], again along k.
            for (int e = thread; e < blockColumns * depth; e += threads)
            {
                int column = e / depth;
                int p = e - (column * depth);
                int gateIndex = column / threadsX;
                int unit = unitBase + column - (gateIndex * threadsX);
                int weightRow = (gateIndex * hidden) + unit;
                int k = k0 + p;
                float value = weightHh[(Min(weightRow, lastWeightRow) * hidden) + Min(k, lastDepth)];
                bSlab[(p * bPitch) + column] = unit < hidden && k <= lastDepth ? value : 0f;
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
                float wi = bSlab[bOffset];
                float wf = bSlab[bOffset + threadsX];
                float wg = bSlab[bOffset + (2 * threadsX)];
                float wo = bSlab[bOffset + (3 * threadsX)];

                i0 += a0 * wi;
                f0 += a0 * wf;
                g0 += a0 * wg;
                o0 += a0 * wo;
                i1 += a1 * wi;
                f1 += a1 * wf;
                g1 += a1 * wg;
                o1 += a1 * wo;
                i2 += a2 * wi;
                f2 += a2 * wf;
                g2 += a2 * wg;
                o2 += a2 * wo;
                i3 += a3 * wi;
                f3 += a3 * wf;
                g3 += a3 * wg;
                o3 += a3 * wo;
            }

            Group.Barrier();
        }

        int unitOfThread = unitBase + tx;
        if (unitOfThread >= hidden)
        {
            return;
        }

        int firstRow = rowBase + ty;
        Cell(firstRow, unitOfThread, batch, hidden, i0, f0, g0, o0, gates, cPrev, c, h);
        Cell(firstRow + threadsY, unitOfThread, batch, hidden, i1, f1, g1, o1, gates, cPrev, c, h);
        Cell(firstRow + (2 * threadsY), unitOfThread, batch, hidden, i2, f2, g2, o2, gates, cPrev, c, h);
        Cell(firstRow + (3 * threadsY), unitOfThread, batch, hidden, i3, f3, g3, o3, gates, cPrev, c, h);
    }

    /// <summary>Adds the recurrent sums to the input preactivations of (b, unit) and runs the cell there, as the unfused path does.</summary>
    private static void Cell(
        int b, int unit, int batch, int hidden, float sumI, float sumF, float sumG, float sumO, ArrayView<float> gates, ArrayView<float> cPrev, ArrayView<float> c, ArrayView<float> h)
    {
        if (b >= batch)
        {
            return;
        }

        // The unfused path stores sum + preactivation (alpha = beta = 1) before the cell reads it: the same additions here.
        int gate = (b * 4 * hidden) + unit;
        LstmCellKernels.ForwardAt(
            (b * hidden) + unit,
            gate,
            hidden,
            sumI + gates[gate],
            sumF + gates[gate + hidden],
            sumG + gates[gate + (2 * hidden)],
            sumO + gates[gate + (3 * hidden)],
            cPrev,
            gates,
            c,
            h);
    }

    private static int Min(int x, int y) => x < y ? x : y;
}
