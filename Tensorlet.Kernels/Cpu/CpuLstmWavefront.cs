namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrences of two stacked LSTM layers at once, as a wavefront (<see cref="CpuRecurrenceWavefront"/>): the lower
/// layer's steps, the upper layer's input projection (x·W_ihᵀ + b_ih + b_hh, into its gates) per chunk of steps, and the
/// upper layer's steps behind; backward, the upper layer's backward steps, the input gradient d(pre)·W_ih per chunk, and
/// the lower layer's backward steps. Bit-identical to running the layers one after the other.
/// </summary>
internal static unsafe class CpuLstmWavefront
{
    /// <summary>
    /// Runs both layers' forward recurrences and the upper layer's input projection. <paramref name="lower"/> has its
    /// input preactivations (x·W_ihᵀ + biases) in its gates, as <see cref="CpuLstmRecurrence.Forward"/> wants them.
    /// <paramref name="upperInput"/> [T·B, H] receives dropout(lower h) (p = 0 copies; it may be the lower layer's hidden
    /// itself, and then nothing is written). The upper layer's gates [T·B, 4H] receive upperInput·W_ihᵀ + <paramref name="bias"/>
    /// ([4H], b_ih + b_hh) before its recurrence reads them. <paramref name="weightIhT"/> is op(B) = W_ihᵀ [H, 4H] of the upper
    /// layer, packed by <see cref="CpuGemm.PackB"/> (plainly: not by gate). <paramref name="chunkSteps"/> 0 takes
    /// <see cref="CpuRecurrenceWavefront.ChunkSteps"/>.
    /// </summary>
    public static void Forward(
        in LstmLayerPointers lower, float* upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, PackedMatrix weightIhT, float* bias, in LstmLayerPointers upper, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuRecurrenceWavefront.CheckWeights(lower.Weight, upper.Weight, weightIhT, 4, hiddenSize, forward: true);
        CpuRecurrenceWavefront.Forward(
            new CpuLstmRecurrence.ForwardGang(lower.Gates, lower.Cells, lower.Hidden, lower.H0, lower.C0, lower.HasInitialHidden, lower.Weight, steps, batch, hiddenSize, width),
            new CpuLstmRecurrence.ForwardGang(upper.Gates, upper.Cells, upper.Hidden, upper.H0, upper.C0, upper.HasInitialHidden, upper.Weight, steps, batch, hiddenSize, width),
            lower.Hidden, upperInput, dropout, dropoutSeed, dropoutStream, weightIhT, bias, upper.Gates, steps, batch, hiddenSize, threads, width, chunkSteps);
    }

    /// <summary>
    /// Runs both layers' backward recurrences and the input gradient between them. <paramref name="upper"/>'s dH holds
    /// dL/dh from above; <paramref name="lower"/>'s dH [T·B, H] receives dL/d(lower h) = dropout'(d(pre of upper)·W_ih) and
    /// then the lower layer's recurrent terms. Both dc [B, H] must be zero; both d(pre) [T·B, 4H] and both dBias [4H] are
    /// written, as <see cref="CpuLstmRecurrence.Backward"/> writes them. <paramref name="weightIh"/> is op(B) = W_ih [4H, H] of the upper
    /// layer, packed. <paramref name="dropout"/> is the probability the forward applied (0 when it applied none).
    /// </summary>
    public static void Backward(
        in LstmLayerGradientPointers upper, PackedMatrix weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in LstmLayerGradientPointers lower, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuRecurrenceWavefront.CheckWeights(lower.Weight, upper.Weight, weightIh, 4, hiddenSize, forward: false);
        int wide = 4 * hiddenSize;
        using var upperTotals = GateColumnSums.RentTotals(batch, wide);
        using var lowerTotals = GateColumnSums.RentTotals(batch, wide);
        CpuRecurrenceWavefront.Backward(
            new CpuLstmRecurrence.BackwardGang(upper.Gates, upper.Cells, upper.C0, upper.DH, upper.Dc, upper.DPre, upperTotals.Pointer, upper.Weight, steps, batch, hiddenSize, width),
            new CpuLstmRecurrence.BackwardGang(lower.Gates, lower.Cells, lower.C0, lower.DH, lower.Dc, lower.DPre, lowerTotals.Pointer, lower.Weight, steps, batch, hiddenSize, width),
            upper.DPre, weightIh, lower.DH, dropout, dropoutSeed, dropoutStream, steps, batch, hiddenSize, threads, width, chunkSteps);
        GateColumnSums.Fold(upperTotals.Pointer, batch, wide, upper.DBias, width);
        GateColumnSums.Fold(lowerTotals.Pointer, batch, wide, lower.DBias, width);
    }
}

/// <summary>One LSTM layer's forward recurrence buffers, as <see cref="CpuLstmRecurrence.Forward"/> takes them; <see cref="Weight"/> is W_hhᵀ packed.</summary>
internal readonly unsafe struct LstmLayerPointers(float* gates, float* cells, float* hidden, float* h0, float* c0, bool hasInitialHidden, PackedMatrix weight)
{
    public float* Gates { get; } = gates;

    public float* Cells { get; } = cells;

    public float* Hidden { get; } = hidden;

    public float* H0 { get; } = h0;

    public float* C0 { get; } = c0;

    public bool HasInitialHidden { get; } = hasInitialHidden;

    public PackedMatrix Weight { get; } = weight;
}

/// <summary>One LSTM layer's backward recurrence buffers, as <see cref="CpuLstmRecurrence.Backward"/> takes them; <see cref="Weight"/> is W_hh packed.</summary>
internal readonly unsafe struct LstmLayerGradientPointers(float* gates, float* cells, float* c0, float* dH, float* dc, float* dPre, float* dBias, PackedMatrix weight)
{
    public float* Gates { get; } = gates;

    public float* Cells { get; } = cells;

    public float* C0 { get; } = c0;

    public float* DH { get; } = dH;

    public float* Dc { get; } = dc;

    public float* DPre { get; } = dPre;

    public float* DBias { get; } = dBias;

    public PackedMatrix Weight { get; } = weight;
}
