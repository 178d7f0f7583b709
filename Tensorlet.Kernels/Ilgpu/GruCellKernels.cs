using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The fused GRU cell as ILGPU kernels: one thread per (b, j) of the [B,H] cell, reading gi and gh at columns j, H+j,
/// 2H+j of row b (PyTorch's order r, z, n). Consecutive threads touch consecutive columns, so every gate stream is read
/// and written coalesced. Launch over B·H (auto-grouped). Formulas as <see cref="Reference.ReferenceGruCell"/>, and σ and
/// tanh from <see cref="KernelMath"/>, the CPU kernels' formulas, so every device computes one function. Each thread reads all its
/// inputs before it writes, so the in-place aliasing of the CPU kernels holds here too.
/// </summary>
internal static class GruCellKernels
{
    /// <summary>r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r·gh_n), h = n + z·(hPrev − n). Index space: B·H.</summary>
    public static void Forward(
        Index1D index, ArrayView<float> gi, ArrayView<float> gh, ArrayView<float> hPrev, ArrayView<float> gates, ArrayView<float> h, int hidden)
    {
        int b = index / hidden;
        int j = index - (b * hidden);
        int gate = (b * 3 * hidden) + j;
        float r = KernelMath.Sigmoid(gi[gate] + gh[gate]);
        float z = KernelMath.Sigmoid(gi[gate + hidden] + gh[gate + hidden]);
        float n = KernelMath.Tanh((r * gh[gate + (2 * hidden)]) + gi[gate + (2 * hidden)]);
        float hNew = (z * (hPrev[index] - n)) + n;
        gates[gate] = r;
        gates[gate + hidden] = z;
        gates[gate + (2 * hidden)] = n;
        h[index] = hNew;
    }

    /// <summary>
    /// The backward of <see cref="Forward"/>: d = dh + dhNext; dn = d·(1 − z)·(1 − n²); dgi = dn·gh_n·r(1 − r),
    /// d·(hPrev − n)·z(1 − z), dn; dgh = dgi but dgh_n = dn·r; dhPrev = d·z. Index space: B·H.
    /// </summary>
    public static void Backward(
        Index1D index,
        ArrayView<float> gates,
        ArrayView<float> gh,
        ArrayView<float> hPrev,
        ArrayView<float> dh,
        ArrayView<float> dhNext,
        ArrayView<float> dgi,
        ArrayView<float> dgh,
        ArrayView<float> dhPrev,
        int hidden)
    {
        int b = index / hidden;
        int j = index - (b * hidden);
        int gate = (b * 3 * hidden) + j;
        float r = gates[gate];
        float z = gates[gate + hidden];
        float n = gates[gate + (2 * hidden)];
        float ghN = gh[gate + (2 * hidden)];
        float d = dh[index] + dhNext[index];
        float dZ = d * (hPrev[index] - n);
        float dNPre = d * (1f - z) * (1f - (n * n));
        float dRPre = dNPre * ghN * (r * (1f - r));
        float dZPre = dZ * (z * (1f - z));
        dhPrev[index] = d * z;
        dgi[gate] = dRPre;
        dgi[gate + hidden] = dZPre;
        dgi[gate + (2 * hidden)] = dNPre;
        dgh[gate] = dRPre;
        dgh[gate + hidden] = dZPre;
        dgh[gate + (2 * hidden)] = dNPre * r;
    }
}
