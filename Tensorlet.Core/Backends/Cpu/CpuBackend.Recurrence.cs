using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>
    /// The whole recurrence of a layer through <see cref="CpuLstmRecurrence"/> (one gang of threads split by hidden
    /// units, one barrier per step), when each gate's columns are whole B slivers (H a multiple of the
    /// microkernel's NR); otherwise false, and the LSTM runs step by step. Bit-identical to the step-by-step path.
    /// </summary>
    public unsafe bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        int h = hidden.Columns;
        if (h % Plan.Gemm.Nr != 0)
        {
            return false;
        }

        var packed = packedOperands.Keep(weightHh, transposeB: true, k: h, n: 4 * h, Threads, Plan.Gemm);
        fixed (float* g = gates.Span, c = cells.Span, hh = hidden.Span, hInit = h0.Span, cInit = c0.Span)
        {
            CpuLstmRecurrence.Forward(g, c, hh, hInit, cInit, hasInitialHidden, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryLstmRecurrenceForward"/>, under the same condition.</summary>
    public unsafe bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor weightHh, int steps, int batch)
    {
        int h = cells.Columns;
        if (h % Plan.Gemm.Nr != 0)
        {
            return false;
        }

        var packed = packedOperands.Keep(weightHh, transposeB: false, k: 4 * h, n: h, Threads, Plan.Gemm);
        fixed (float* g = gates.Span, c = cells.Span, cInit = c0.Span, dh = dH.Span, dcp = dc.Span, dp = dPre.Span)
        {
            CpuLstmRecurrence.Backward(g, c, cInit, dh, dcp, dp, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>
    /// The whole recurrence of a GRU layer through <see cref="CpuGruRecurrence"/>, under the LSTM's condition (H a
    /// multiple of the microkernel's NR); otherwise false, and the GRU runs step by step. Bit-identical to the step-by-step path.
    /// </summary>
    public unsafe bool TryGruRecurrenceForward(Tensor gi, Tensor gh, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        int h = hidden.Columns;
        if (h % Plan.Gemm.Nr != 0)
        {
            return false;
        }

        var packed = packedOperands.Keep(weightHh, transposeB: true, k: h, n: 3 * h, Threads, Plan.Gemm);
        fixed (float* pGi = gi.Span, pGh = gh.Span, pHidden = hidden.Span, pH0 = h0.Span)
        {
            CpuGruRecurrence.Forward(pGi, pGh, pHidden, pH0, hasInitialHidden, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryGruRecurrenceForward"/>, under the same condition.</summary>
    public unsafe bool TryGruRecurrenceBackward(Tensor gates, Tensor gh, Tensor hidden, Tensor h0, Tensor dH, Tensor dhCarry, Tensor dgi, Tensor dgh, Tensor weightHh, int steps, int batch)
    {
        int h = hidden.Columns;
        if (h % Plan.Gemm.Nr != 0)
        {
            return false;
        }

        var packed = packedOperands.Keep(weightHh, transposeB: false, k: 3 * h, n: h, Threads, Plan.Gemm);
        fixed (float* pGates = gates.Span, pGh = gh.Span, pHidden = hidden.Span, pH0 = h0.Span, pDh = dH.Span, pCarry = dhCarry.Span, pDgi = dgi.Span, pDgh = dgh.Span)
        {
            CpuGruRecurrence.Backward(pGates, pGh, pHidden, pH0, pDh, pCarry, pDgi, pDgh, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }
}
