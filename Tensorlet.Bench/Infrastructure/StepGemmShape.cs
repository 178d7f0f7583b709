namespace Tensorlet.Bench.Infrastructure;

/// <summary>
/// Which multiplication of a 2-layer LSTM training step at batch 100 × 99 steps (9900 rows). The GEMM benchmarks, the
/// <c>gemm</c> command and its libtorch counterpart (bench/libtorch-train-step, which links this file) all take these.
/// </summary>
public enum StepGemmShape
{
    /// <summary>One recurrent step: h [100, H] · W_hhᵀ (W_hh [4H, H]).</summary>
    Recurrent,

    /// <summary>The input projection of all steps: x [9900, H] · W_ihᵀ.</summary>
    InputProjection,

    /// <summary>The weight gradient: dYᵀ · X, dY [9900, 4H], X [9900, H].</summary>
    WeightGradient,

    /// <summary>The input gradient: dY [9900, 4H] · W [4H, H].</summary>
    InputGradient,

    /// <summary>The output head: h [9900, H] · W_outᵀ (W_out [32, H]).</summary>
    OutputHead,

    /// <summary>The output head's weight gradient: dYᵀ · h, dY [9900, 32], h [9900, H].</summary>
    OutputHeadWeightGradient,

    /// <summary>The output head's input gradient: dY [9900, 32] · W_out [32, H].</summary>
    OutputHeadInputGradient,

    /// <summary>The wavefront's hand-over forward: one chunk's input projection, x [200, H] · W_ihᵀ (run on one thread, in parts of the columns).</summary>
    ChunkProjection,

    /// <summary>The wavefront's hand-over backward: one chunk's input gradient, dY [200, 4H] · W [4H, H] (one thread, in parts of the columns).</summary>
    ChunkInputGradient,
}

/// <summary>The shapes of <see cref="StepGemmShape"/> for a hidden size.</summary>
public static class StepGemmShapes
{
    /// <summary>The dimensions and layout of a shape: C [M, N] = op(A) [M, K] · op(B) [K, N].</summary>
    public static (int M, int N, int K, bool TransposeA, bool TransposeB) Dimensions(StepGemmShape shape, int h) => shape switch
    {
        StepGemmShape.Recurrent => (100, 4 * h, h, false, true),
        StepGemmShape.InputProjection => (9900, 4 * h, h, false, true),
        StepGemmShape.WeightGradient => (4 * h, h, 9900, true, false),
        StepGemmShape.InputGradient => (9900, h, 4 * h, false, false),
        StepGemmShape.OutputHead => (9900, 32, h, false, true),
        StepGemmShape.OutputHeadWeightGradient => (32, h, 9900, true, false),
        StepGemmShape.OutputHeadInputGradient => (9900, h, 32, false, false),
        StepGemmShape.ChunkProjection => (200, 4 * h, h, false, true),
        StepGemmShape.ChunkInputGradient => (200, h, 4 * h, false, false),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };
}
