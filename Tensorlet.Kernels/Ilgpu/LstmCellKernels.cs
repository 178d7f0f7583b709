using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The fused LSTM cell as ILGPU kernels: one thread per (b, j) of the [B,H] cell, reading the four gates at
/// columns j, H+j, 2H+j, 3H+j of row b (PyTorch's order i, f, g, o). Consecutive threads touch consecutive
/// columns, so each of the four gate streams is read and written coalesced. Launch over B·H (auto-grouped).
/// Each thread reads all its inputs before it writes, so the in-place aliasing of the CPU kernels holds here too.
/// </summary>
internal static class LstmCellKernels
{
    /// <summary>gates = σ(i), σ(f), tanh(g), σ(o); c = f·cPrev + i·g; h = o·tanh(c). Index space: B·H.</summary>
    public static void Forward(
        Index1D index, ArrayView<float> preactivations, ArrayView<float> cPrev, ArrayView<float> gates, ArrayView<float> c, ArrayView<float> h, int hidden)
    {
        int b = index / hidden;
        int j = index - (b * hidden);
        int gate = (b * 4 * hidden) + j;
        ForwardAt(
            index,
            gate,
            hidden,
            preactivations[gate],
            preactivations[gate + hidden],
            preactivations[gate + (2 * hidden)],
            preactivations[gate + (3 * hidden)],
            cPrev,
            gates,
            c,
            h);
    }

    /// <summary>
    /// The cell at one (b, j) from its four preactivations: writes the activated gates at gate, gate + H, gate + 2H,
    /// gate + 3H (gate = b·4H + j) and c, h at cell = b·H + j. Shared by <see cref="Forward"/> and the fused time step
    /// (the fused-steps variant in dev/IlgpuKernels), so both compute the same floats.
    /// </summary>
    public static void ForwardAt(
        int cell, int gate, int hidden, float preI, float preF, float preG, float preO, ArrayView<float> cPrev, ArrayView<float> gates, ArrayView<float> c, ArrayView<float> h)
    {
        float i = KernelMath.Sigmoid(preI);
        float f = KernelMath.Sigmoid(preF);
        float g = KernelMath.Tanh(preG);
        float o = KernelMath.Sigmoid(preO);
        float cNew = (f * cPrev[cell]) + (i * g);
        gates[gate] = i;
        gates[gate + hidden] = f;
        gates[gate + (2 * hidden)] = g;
        gates[gate + (3 * hidden)] = o;
        c[cell] = cNew;
        h[cell] = o * KernelMath.Tanh(cNew);
    }

    /// <summary>
    /// The backward of <see cref="Forward"/>: tc = tanh(c); dc = dcNext + dh·o·(1−tc²); d(pre) = dc·g·i(1−i),
    /// dc·cPrev·f(1−f), dc·i·(1−g²), dh·tc·o(1−o); dcPrev = dc·f. Index space: B·H.
    /// </summary>
    public static void Backward(
        Index1D index,
        ArrayView<float> gates,
        ArrayView<float> c,
        ArrayView<float> cPrev,
        ArrayView<float> dh,
        ArrayView<float> dcNext,
        ArrayView<float> dPreactivations,
        ArrayView<float> dcPrev,
        int hidden)
    {
        BackwardAt(index, hidden, dh[index], gates, c, cPrev, dcNext, dPreactivations, dcPrev);
    }

    /// <summary>
    /// The backward at cell = b·H + j, with dL/dh already summed into <paramref name="dhValue"/>. Reads everything at the
    /// cell before it writes, so dcPrev may be dcNext. Shared by <see cref="Backward"/> and the fused-steps variant in dev/IlgpuKernels.
    /// </summary>
    public static void BackwardAt(
        int cell,
        int hidden,
        float dhValue,
        ArrayView<float> gates,
        ArrayView<float> c,
        ArrayView<float> cPrev,
        ArrayView<float> dcNext,
        ArrayView<float> dPreactivations,
        ArrayView<float> dcPrev)
    {
        int b = cell / hidden;
        int j = cell - (b * hidden);
        int gate = (b * 4 * hidden) + j;
        float i = gates[gate];
        float f = gates[gate + hidden];
        float g = gates[gate + (2 * hidden)];
        float o = gates[gate + (3 * hidden)];
        float tc = KernelMath.Tanh(c[cell]);
        float dC = dcNext[cell] + (dhValue * o * (1f - (tc * tc)));
        float dO = dhValue * tc;
        float cp = cPrev[cell];
        dcPrev[cell] = dC * f;
        dPreactivations[gate] = dC * g * i * (1f - i);
        dPreactivations[gate + hidden] = dC * cp * f * (1f - f);
        dPreactivations[gate + (2 * hidden)] = dC * i * (1f - (g * g));
        dPreactivations[gate + (3 * hidden)] = dO * o * (1f - o);
    }
}
