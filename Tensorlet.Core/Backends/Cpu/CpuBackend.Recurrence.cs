using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>
    /// The whole recurrence of a layer through <see cref="CpuLstmRecurrence"/> (one gang of threads split by hidden
    /// units, one barrier per step), for any H: W_hhᵀ is packed gate by gate, so each gate starts on a B sliver of its own.
    /// Always true. Bit-identical to the step-by-step path.
    /// </summary>
    public unsafe bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        int h = hidden.Columns;
        var packed = packedOperands.Keep(weightHh, transposeB: true, k: h, n: 4 * h, Threads, Plan.Gemm, groups: 4);
        fixed (float* g = gates.Span, c = cells.Span, hh = hidden.Span, hInit = h0.Span, cInit = c0.Span)
        {
            CpuLstmRecurrence.Forward(g, c, hh, hInit, cInit, hasInitialHidden, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryLstmRecurrenceForward"/>; always true.</summary>
    public unsafe bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor dBias, Tensor weightHh, int steps, int batch)
    {
        int h = cells.Columns;
        var packed = packedOperands.Keep(weightHh, transposeB: false, k: 4 * h, n: h, Threads, Plan.Gemm);
        fixed (float* g = gates.Span, c = cells.Span, cInit = c0.Span, dh = dH.Span, dcp = dc.Span, dp = dPre.Span, db = dBias.Span)
        {
            CpuLstmRecurrence.Backward(g, c, cInit, dh, dcp, dp, db, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>
    /// The whole recurrence of a GRU layer through <see cref="CpuGruRecurrence"/>, for any H as the LSTM's; always true.
    /// Bit-identical to the step-by-step path.
    /// </summary>
    public unsafe bool TryGruRecurrenceForward(Tensor gi, Tensor gh, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        int h = hidden.Columns;
        var packed = packedOperands.Keep(weightHh, transposeB: true, k: h, n: 3 * h, Threads, Plan.Gemm, groups: 3);
        fixed (float* pGi = gi.Span, pGh = gh.Span, pHidden = hidden.Span, pH0 = h0.Span)
        {
            CpuGruRecurrence.Forward(pGi, pGh, pHidden, pH0, hasInitialHidden, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryGruRecurrenceForward"/>; always true.</summary>
    public unsafe bool TryGruRecurrenceBackward(Tensor gates, Tensor gh, Tensor hidden, Tensor h0, Tensor dH, Tensor dhCarry, Tensor dgi, Tensor dgh, Tensor dBiasIh, Tensor dBiasHh, Tensor weightHh, int steps, int batch)
    {
        int h = hidden.Columns;
        var packed = packedOperands.Keep(weightHh, transposeB: false, k: 3 * h, n: h, Threads, Plan.Gemm);
        fixed (float* pGates = gates.Span, pGh = gh.Span, pHidden = hidden.Span, pH0 = h0.Span, pDh = dH.Span, pCarry = dhCarry.Span, pDgi = dgi.Span, pDgh = dgh.Span, pBiasIh = dBiasIh.Span, pBiasHh = dBiasHh.Span)
        {
            CpuGruRecurrence.Backward(pGates, pGh, pHidden, pH0, pDh, pCarry, pDgi, pDgh, pBiasIh, pBiasHh, packed, steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>
    /// Two stacked LSTM layers through <see cref="CpuLstmWavefront"/> when the plan says <see cref="CpuRecurrenceSchedule.Wavefront"/>,
    /// and there are two threads or more; otherwise false, and the layers run one after the other. Bit-identical to that.
    /// </summary>
    public unsafe bool TryLstmWavefrontForward(in LstmLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in LstmLayerTensors upper, int steps, int batch)
    {
        int h = lower.Hidden.Columns;
        if (!RunsWavefront())
        {
            return false;
        }

        var (lowerHh, upperHh, upperIh) = KeepWavefrontWeights(lower.WeightHh, upper.WeightHh, weightIh, forward: true, gates: 4, h);
        fixed (float* g0 = lower.Gates.Span, c0 = lower.Cells.Span, h0 = lower.Hidden.Span, hInit0 = lower.H0.Span, cInit0 = lower.C0.Span)
        fixed (float* g1 = upper.Gates.Span, c1 = upper.Cells.Span, h1 = upper.Hidden.Span, hInit1 = upper.H0.Span, cInit1 = upper.C0.Span)
        fixed (float* input = upperInput.Span, b = bias.ReadSpan)
        {
            CpuLstmWavefront.Forward(
                new LstmLayerPointers(g0, c0, h0, hInit0, cInit0, lower.HasInitialHidden, lowerHh),
                input, dropout, dropoutSeed, dropoutStream, upperIh, b,
                new LstmLayerPointers(g1, c1, h1, hInit1, cInit1, upper.HasInitialHidden, upperHh),
                steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryLstmWavefrontForward"/>, under the same condition.</summary>
    public unsafe bool TryLstmWavefrontBackward(in LstmLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in LstmLayerGradientTensors lower, int steps, int batch)
    {
        int h = lower.Cells.Columns;
        if (!RunsWavefront())
        {
            return false;
        }

        var (upperHh, lowerHh, upperIh) = KeepWavefrontWeights(upper.WeightHh, lower.WeightHh, weightIh, forward: false, gates: 4, h);
        fixed (float* g1 = upper.Gates.Span, c1 = upper.Cells.Span, cInit1 = upper.C0.Span, dh1 = upper.DH.Span, dc1 = upper.Dc.Span, dp1 = upper.DPre.Span, db1 = upper.DBias.Span)
        fixed (float* g0 = lower.Gates.Span, c0 = lower.Cells.Span, cInit0 = lower.C0.Span, dh0 = lower.DH.Span, dc0 = lower.Dc.Span, dp0 = lower.DPre.Span, db0 = lower.DBias.Span)
        {
            CpuLstmWavefront.Backward(
                new LstmLayerGradientPointers(g1, c1, cInit1, dh1, dc1, dp1, db1, upperHh),
                upperIh, dropout, dropoutSeed, dropoutStream,
                new LstmLayerGradientPointers(g0, c0, cInit0, dh0, dc0, dp0, db0, lowerHh),
                steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>Two stacked GRU layers through <see cref="CpuGruWavefront"/>, under <see cref="TryLstmWavefrontForward"/>'s condition.</summary>
    public unsafe bool TryGruWavefrontForward(in GruLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor biasIh, in GruLayerTensors upper, int steps, int batch)
    {
        int h = lower.Hidden.Columns;
        if (!RunsWavefront())
        {
            return false;
        }

        var (lowerHh, upperHh, upperIh) = KeepWavefrontWeights(lower.WeightHh, upper.WeightHh, weightIh, forward: true, gates: 3, h);
        fixed (float* gi0 = lower.Gi.Span, gh0 = lower.Gh.Span, h0 = lower.Hidden.Span, hInit0 = lower.H0.Span)
        fixed (float* gi1 = upper.Gi.Span, gh1 = upper.Gh.Span, h1 = upper.Hidden.Span, hInit1 = upper.H0.Span)
        fixed (float* input = upperInput.Span, b = biasIh.ReadSpan)
        {
            CpuGruWavefront.Forward(
                new GruLayerPointers(gi0, gh0, h0, hInit0, lower.HasInitialHidden, lowerHh),
                input, dropout, dropoutSeed, dropoutStream, upperIh, b,
                new GruLayerPointers(gi1, gh1, h1, hInit1, upper.HasInitialHidden, upperHh),
                steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryGruWavefrontForward"/>, under the same condition.</summary>
    public unsafe bool TryGruWavefrontBackward(in GruLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in GruLayerGradientTensors lower, int steps, int batch)
    {
        int h = lower.Hidden.Columns;
        if (!RunsWavefront())
        {
            return false;
        }

        var (upperHh, lowerHh, upperIh) = KeepWavefrontWeights(upper.WeightHh, lower.WeightHh, weightIh, forward: false, gates: 3, h);
        fixed (float* g1 = upper.Gates.Span, gh1 = upper.Gh.Span, hd1 = upper.Hidden.Span, hInit1 = upper.H0.Span, dh1 = upper.DH.Span, carry1 = upper.DhCarry.Span, dgi1 = upper.Dgi.Span, dgh1 = upper.Dgh.Span)
        fixed (float* bi1 = upper.DBiasIh.Span, bh1 = upper.DBiasHh.Span, bi0 = lower.DBiasIh.Span, bh0 = lower.DBiasHh.Span)
        fixed (float* g0 = lower.Gates.Span, gh0 = lower.Gh.Span, hd0 = lower.Hidden.Span, hInit0 = lower.H0.Span, dh0 = lower.DH.Span, carry0 = lower.DhCarry.Span, dgi0 = lower.Dgi.Span, dgh0 = lower.Dgh.Span)
        {
            CpuGruWavefront.Backward(
                new GruLayerGradientPointers(g1, gh1, hd1, hInit1, dh1, carry1, dgi1, dgh1, bi1, bh1, upperHh),
                upperIh, dropout, dropoutSeed, dropoutStream,
                new GruLayerGradientPointers(g0, gh0, hd0, hInit0, dh0, carry0, dgi0, dgh0, bi0, bh0, lowerHh),
                steps, batch, h, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>
    /// The whole recurrence of an RNN layer through <see cref="CpuRnnRecurrence"/>, for any H as the LSTM's; always true.
    /// Bit-identical to the step-by-step path.
    /// </summary>
    public unsafe bool TryRnnRecurrenceForward(Tensor pre, Tensor hidden, Tensor h0, bool hasInitialHidden, Tensor weightHh, Activation activation, int steps, int batch)
    {
        int h = hidden.Columns;
        var packed = packedOperands.Keep(weightHh, transposeB: true, k: h, n: h, Threads, Plan.Gemm);
        fixed (float* pPre = pre.Span, pHidden = hidden.Span, pH0 = h0.Span)
        {
            CpuRnnRecurrence.Forward(pPre, pHidden, pH0, hasInitialHidden, packed, steps, batch, h, activation, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryRnnRecurrenceForward"/>; always true.</summary>
    public unsafe bool TryRnnRecurrenceBackward(Tensor hidden, Tensor dH, Tensor dPre, Tensor dBias, Tensor weightHh, Activation activation, int steps, int batch)
    {
        int h = hidden.Columns;
        var packed = packedOperands.Keep(weightHh, transposeB: false, k: h, n: h, Threads, Plan.Gemm);
        fixed (float* pHidden = hidden.Span, pDh = dH.Span, pDPre = dPre.Span, pBias = dBias.Span)
        {
            CpuRnnRecurrence.Backward(pHidden, pDh, pDPre, pBias, packed, steps, batch, h, activation, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>Two stacked RNN layers through <see cref="CpuRnnWavefront"/>, under <see cref="TryLstmWavefrontForward"/>'s condition.</summary>
    public unsafe bool TryRnnWavefrontForward(in RnnLayerTensors lower, Tensor upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, Tensor weightIh, Tensor bias, in RnnLayerTensors upper, Activation activation, int steps, int batch)
    {
        int h = lower.Hidden.Columns;
        if (!RunsWavefront())
        {
            return false;
        }

        var (lowerHh, upperHh, upperIh) = KeepWavefrontWeights(lower.WeightHh, upper.WeightHh, weightIh, forward: true, gates: 1, h);
        fixed (float* p0 = lower.Pre.Span, h0 = lower.Hidden.Span, hInit0 = lower.H0.Span)
        fixed (float* p1 = upper.Pre.Span, h1 = upper.Hidden.Span, hInit1 = upper.H0.Span)
        fixed (float* input = upperInput.Span, b = bias.ReadSpan)
        {
            CpuRnnWavefront.Forward(
                new RnnLayerPointers(p0, h0, hInit0, lower.HasInitialHidden, lowerHh),
                input, dropout, dropoutSeed, dropoutStream, upperIh, b,
                new RnnLayerPointers(p1, h1, hInit1, upper.HasInitialHidden, upperHh),
                steps, batch, h, activation, Threads, Plan.Width);
        }

        return true;
    }

    /// <summary>The backward of <see cref="TryRnnWavefrontForward"/>, under the same condition.</summary>
    public unsafe bool TryRnnWavefrontBackward(in RnnLayerGradientTensors upper, Tensor weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in RnnLayerGradientTensors lower, Activation activation, int steps, int batch)
    {
        int h = lower.Hidden.Columns;
        if (!RunsWavefront())
        {
            return false;
        }

        var (upperHh, lowerHh, upperIh) = KeepWavefrontWeights(upper.WeightHh, lower.WeightHh, weightIh, forward: false, gates: 1, h);
        fixed (float* hd1 = upper.Hidden.Span, dh1 = upper.DH.Span, dp1 = upper.DPre.Span, db1 = upper.DBias.Span)
        fixed (float* hd0 = lower.Hidden.Span, dh0 = lower.DH.Span, dp0 = lower.DPre.Span, db0 = lower.DBias.Span)
        {
            CpuRnnWavefront.Backward(
                new RnnLayerGradientPointers(hd1, dh1, dp1, db1, upperHh),
                upperIh, dropout, dropoutSeed, dropoutStream,
                new RnnLayerGradientPointers(hd0, dh0, dp0, db0, lowerHh),
                steps, batch, h, activation, Threads, Plan.Width);
        }

        return true;
    }

    private bool RunsWavefront() =>
        Plan.Recurrence == CpuRecurrenceSchedule.Wavefront && Threads >= 2 && CpuThreadTeam.MaxThreads >= 2;

    /// <summary>
    /// The three weights of a wavefront over two layers of a cell with <paramref name="gates"/> gates per unit, packed
    /// once and kept, <paramref name="first"/> first: forward each layer's op(B) = W_hhᵀ [H, gates·H], packed gate by gate,
    /// and the upper layer's W_ihᵀ; backward W_hh and W_ih [gates·H, H].
    /// </summary>
    private (PackedMatrix First, PackedMatrix Second, PackedMatrix InputWeight) KeepWavefrontWeights(Tensor first, Tensor second, Tensor weightIh, bool forward, int gates, int h)
    {
        int k = forward ? h : gates * h, n = forward ? gates * h : h;
        return (
            packedOperands.Keep(first, transposeB: forward, k, n, Threads, Plan.Gemm, groups: forward ? gates : 1),
            packedOperands.Keep(second, transposeB: forward, k, n, Threads, Plan.Gemm, groups: forward ? gates : 1),
            packedOperands.Keep(weightIh, transposeB: forward, k, n, Threads, Plan.Gemm));
    }
}
