using ILGPU;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Recurrence;

/// <summary>
/// The second half of one backward LSTM time step: dh_t = dH_t + Σ_z partials[z], the recurrent term d(pre_{t+1})·W_hh
/// that a split-k tiled GEMM left in slices (<see cref="GemmArguments.SplitK"/>), then the cell backward. Step by step these
/// are the GEMM's own reduction pass and a cell launch; here they are one pass. The slices are added in order, as
/// <see cref="GemmSplitKReduceKernel"/> does. One thread per (b, j); launch over B·H.
/// </summary>
internal static class LstmStepBackwardKernel
{
    /// <summary>
    /// With dc holding dL/dc_t on entry, writes dPre_t [B, 4H] and dc = dL/dc_{t−1} in place. dH [B, H] holds dL/dh_t from
    /// above and receives the recurrent term, as in the unfused path. slices may be 0 (the last step has no recurrent term);
    /// partials then is not read.
    /// </summary>
    public static void Run(
        Index1D index,
        ArrayView<float> partials,
        int slices,
        ArrayView<float> dH,
        ArrayView<float> gates,
        ArrayView<float> c,
        ArrayView<float> cPrev,
        ArrayView<float> dc,
        ArrayView<float> dPreactivations,
        int hidden)
    {
        long stride = dH.Length;
        float recurrent = 0f;
        for (int z = 0; z < slices; z++)
        {
            recurrent += partials[(z * stride) + index];
        }

        // The unfused path adds the GEMM's sum into dH (alpha = beta = 1: sum + dH) before the cell reads it.
        float dh = slices > 0 ? recurrent + dH[index] : dH[index];
        dH[index] = dh;
        LstmCellKernels.BackwardAt(index, hidden, dh, gates, c, cPrev, dc, dPreactivations, dc);
    }
}
