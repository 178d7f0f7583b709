namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrences of two stacked Elman RNN layers at once, as a wavefront (<see cref="CpuRecurrenceWavefront"/>): the
/// lower layer's steps, the upper layer's input projection (x·W_ihᵀ + b_ih + b_hh, into its preactivations) per chunk
/// of steps, and the upper layer's steps behind; backward, the upper layer's backward steps, the input gradient
/// d(pre)·W_ih per chunk, and the lower layer's backward steps. Bit-identical to running the layers one after the other.
/// </summary>
internal static unsafe class CpuRnnWavefront
{
    /// <summary>
    /// Runs both layers' forward recurrences and the upper layer's input projection. <paramref name="lower"/> has its
    /// input preactivations (x·W_ihᵀ + biases) in its pre, as <see cref="CpuRnnRecurrence.Forward"/> wants them.
    /// <paramref name="upperInput"/> [T·B, H] receives dropout(lower h) (p = 0 copies; it may be the lower layer's hidden
    /// itself, and then nothing is written). The upper layer's pre [T·B, H] receives upperInput·W_ihᵀ + <paramref name="bias"/>
    /// ([H], b_ih + b_hh) before its recurrence reads it. <paramref name="weightIhT"/> is op(B) = W_ihᵀ [H, H] of the upper
    /// layer, packed by <see cref="CpuGemm.PackB"/>. <paramref name="chunkSteps"/> 0 takes <see cref="CpuRecurrenceWavefront.ChunkSteps"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="activation"/> is neither tanh nor relu, or a weight is packed otherwise.</exception>
    public static void Forward(
        in RnnLayerPointers lower, float* upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, PackedMatrix weightIhT, float* bias, in RnnLayerPointers upper, int steps, int batch, int hiddenSize, Activation activation, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuRnnRecurrence.CheckActivation(activation);
        CpuRecurrenceWavefront.CheckWeights(lower.Weight, upper.Weight, weightIhT, 1, hiddenSize, forward: true);
        CpuRecurrenceWavefront.Forward(
            new CpuRnnRecurrence.ForwardGang(lower.Pre, lower.Hidden, lower.H0, lower.HasInitialHidden, lower.Weight, steps, batch, hiddenSize, activation, width),
            new CpuRnnRecurrence.ForwardGang(upper.Pre, upper.Hidden, upper.H0, upper.HasInitialHidden, upper.Weight, steps, batch, hiddenSize, activation, width),
            lower.Hidden, upperInput, dropout, dropoutSeed, dropoutStream, weightIhT, bias, upper.Pre, steps, batch, hiddenSize, threads, width, chunkSteps);
    }

    /// <summary>
    /// Runs both layers' backward recurrences and the input gradient between them. <paramref name="upper"/>'s dH holds
    /// dL/dh from above; <paramref name="lower"/>'s dH [T·B, H] receives dL/d(lower h) = dropout'(d(pre of upper)·W_ih) and
    /// then the lower layer's recurrent terms. Both d(pre) [T·B, H] and both dBias [H] are written, as
    /// <see cref="CpuRnnRecurrence.Backward"/> writes them. <paramref name="weightIh"/> is op(B) = W_ih [H, H] of the upper
    /// layer, packed. <paramref name="dropout"/> is the probability the forward applied (0 when it applied none).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="activation"/> is neither tanh nor relu, or a weight is packed otherwise.</exception>
    public static void Backward(
        in RnnLayerGradientPointers upper, PackedMatrix weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in RnnLayerGradientPointers lower, int steps, int batch, int hiddenSize, Activation activation, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuRnnRecurrence.CheckActivation(activation);
        CpuRecurrenceWavefront.CheckWeights(lower.Weight, upper.Weight, weightIh, 1, hiddenSize, forward: false);
        using var upperTotals = GateColumnSums.RentTotals(batch, hiddenSize);
        using var lowerTotals = GateColumnSums.RentTotals(batch, hiddenSize);
        CpuRecurrenceWavefront.Backward(
            new CpuRnnRecurrence.BackwardGang(upper.Hidden, upper.DH, upper.DPre, upperTotals.Pointer, upper.Weight, steps, batch, hiddenSize, activation, width),
            new CpuRnnRecurrence.BackwardGang(lower.Hidden, lower.DH, lower.DPre, lowerTotals.Pointer, lower.Weight, steps, batch, hiddenSize, activation, width),
            upper.DPre, weightIh, lower.DH, dropout, dropoutSeed, dropoutStream, steps, batch, hiddenSize, threads, width, chunkSteps);
        GateColumnSums.Fold(upperTotals.Pointer, batch, hiddenSize, upper.DBias, width);
        GateColumnSums.Fold(lowerTotals.Pointer, batch, hiddenSize, lower.DBias, width);
    }
}

/// <summary>One RNN layer's forward recurrence buffers, as <see cref="CpuRnnRecurrence.Forward"/> takes them; <see cref="Weight"/> is W_hhᵀ packed.</summary>
internal readonly unsafe struct RnnLayerPointers(float* pre, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weight)
{
    public float* Pre { get; } = pre;

    public float* Hidden { get; } = hidden;

    public float* H0 { get; } = h0;

    public bool HasInitialHidden { get; } = hasInitialHidden;

    public PackedMatrix Weight { get; } = weight;
}

/// <summary>One RNN layer's backward recurrence buffers, as <see cref="CpuRnnRecurrence.Backward"/> takes them; <see cref="Weight"/> is W_hh packed.</summary>
internal readonly unsafe struct RnnLayerGradientPointers(float* hidden, float* dH, float* dPre, float* dBias, PackedMatrix weight)
{
    public float* Hidden { get; } = hidden;

    public float* DH { get; } = dH;

    public float* DPre { get; } = dPre;

    public float* DBias { get; } = dBias;

    public PackedMatrix Weight { get; } = weight;
}
