namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The recurrences of two stacked GRU layers at once, as a wavefront (<see cref="CpuRecurrenceWavefront"/>): the lower
/// layer's steps, the upper layer's gi = x·W_ihᵀ + b_ih per chunk of steps, and the upper layer's steps behind; backward,
/// the upper layer's backward steps, the input gradient dgi·W_ih per chunk, and the lower layer's backward steps.
/// Bit-identical to running the layers one after the other.
/// </summary>
internal static unsafe class CpuGruWavefront
{
    /// <summary>
    /// Runs both layers' forward recurrences and the upper layer's input projection. Each layer's buffers are those of
    /// <see cref="CpuGruRecurrence.Forward"/> (gh holding b_hh in every row), except that the upper layer's gi [T·B, 3H]
    /// receives upperInput·W_ihᵀ + <paramref name="biasIh"/> here. <paramref name="upperInput"/> [T·B, H] receives
    /// dropout(lower h) (or is the lower layer's hidden itself). <paramref name="weightIhT"/> is op(B) = W_ihᵀ [H, 3H],
    /// packed. <paramref name="chunkSteps"/> 0 takes <see cref="CpuRecurrenceWavefront.ChunkSteps"/>.
    /// </summary>
    public static void Forward(
        in GruLayerPointers lower, float* upperInput, float dropout, ulong dropoutSeed, ulong dropoutStream, PackedMatrix weightIhT, float* biasIh, in GruLayerPointers upper, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuRecurrenceWavefront.CheckWeights(lower.Weight, upper.Weight, weightIhT, 3, hiddenSize, forward: true);
        CpuRecurrenceWavefront.Forward(
            new CpuGruRecurrence.ForwardGang(lower.Gi, lower.Gh, lower.Hidden, lower.H0, lower.HasInitialHidden, lower.Weight, steps, batch, hiddenSize, width),
            new CpuGruRecurrence.ForwardGang(upper.Gi, upper.Gh, upper.Hidden, upper.H0, upper.HasInitialHidden, upper.Weight, steps, batch, hiddenSize, width),
            lower.Hidden, upperInput, dropout, dropoutSeed, dropoutStream, weightIhT, biasIh, upper.Gi, steps, batch, hiddenSize, threads, width, chunkSteps);
    }

    /// <summary>
    /// Runs both layers' backward recurrences and the input gradient between them. Each layer's buffers are those of
    /// <see cref="CpuGruRecurrence.Backward"/> (dhCarry zero; both bias gradients written); the lower layer's dH [T·B, H] receives
    /// dropout'(upper dgi·W_ih) before its recurrence adds to it. <paramref name="weightIh"/> is op(B) = W_ih [3H, H], packed.
    /// </summary>
    public static void Backward(
        in GruLayerGradientPointers upper, PackedMatrix weightIh, float dropout, ulong dropoutSeed, ulong dropoutStream, in GruLayerGradientPointers lower, int steps, int batch, int hiddenSize, int threads, CpuVectorWidth width, int chunkSteps = 0)
    {
        CpuRecurrenceWavefront.CheckWeights(lower.Weight, upper.Weight, weightIh, 3, hiddenSize, forward: false);
        int wide = 3 * hiddenSize;
        using var upperGiTotals = GateColumnSums.RentTotals(batch, wide);
        using var upperGhTotals = GateColumnSums.RentTotals(batch, wide);
        using var lowerGiTotals = GateColumnSums.RentTotals(batch, wide);
        using var lowerGhTotals = GateColumnSums.RentTotals(batch, wide);
        CpuRecurrenceWavefront.Backward(
            new CpuGruRecurrence.BackwardGang(upper.Gates, upper.Gh, upper.Hidden, upper.H0, upper.DH, upper.DhCarry, upper.Dgi, upper.Dgh, upperGiTotals.Pointer, upperGhTotals.Pointer, upper.Weight, steps, batch, hiddenSize, width),
            new CpuGruRecurrence.BackwardGang(lower.Gates, lower.Gh, lower.Hidden, lower.H0, lower.DH, lower.DhCarry, lower.Dgi, lower.Dgh, lowerGiTotals.Pointer, lowerGhTotals.Pointer, lower.Weight, steps, batch, hiddenSize, width),
            upper.Dgi, weightIh, lower.DH, dropout, dropoutSeed, dropoutStream, steps, batch, hiddenSize, threads, width, chunkSteps);
        GateColumnSums.Fold(upperGiTotals.Pointer, batch, wide, upper.DBiasIh, width);
        GateColumnSums.Fold(upperGhTotals.Pointer, batch, wide, upper.DBiasHh, width);
        GateColumnSums.Fold(lowerGiTotals.Pointer, batch, wide, lower.DBiasIh, width);
        GateColumnSums.Fold(lowerGhTotals.Pointer, batch, wide, lower.DBiasHh, width);
    }
}

/// <summary>One GRU layer's forward recurrence buffers, as <see cref="CpuGruRecurrence.Forward"/> takes them; <see cref="Weight"/> is W_hhᵀ packed.</summary>
internal readonly unsafe struct GruLayerPointers(float* gi, float* gh, float* hidden, float* h0, bool hasInitialHidden, PackedMatrix weight)
{
    public float* Gi { get; } = gi;

    public float* Gh { get; } = gh;

    public float* Hidden { get; } = hidden;

    public float* H0 { get; } = h0;

    public bool HasInitialHidden { get; } = hasInitialHidden;

    public PackedMatrix Weight { get; } = weight;
}

/// <summary>One GRU layer's backward recurrence buffers, as <see cref="CpuGruRecurrence.Backward"/> takes them; <see cref="Weight"/> is W_hh packed.</summary>
internal readonly unsafe struct GruLayerGradientPointers(float* gates, float* gh, float* hidden, float* h0, float* dH, float* dhCarry, float* dgi, float* dgh, float* dBiasIh, float* dBiasHh, PackedMatrix weight)
{
    public float* Gates { get; } = gates;

    public float* Gh { get; } = gh;

    public float* Hidden { get; } = hidden;

    public float* H0 { get; } = h0;

    public float* DH { get; } = dH;

    public float* DhCarry { get; } = dhCarry;

    public float* Dgi { get; } = dgi;

    public float* Dgh { get; } = dgh;

    public float* DBiasIh { get; } = dBiasIh;

    public float* DBiasHh { get; } = dBiasHh;

    public PackedMatrix Weight { get; } = weight;
}
