namespace Tensorlet.Kernels;

/// <summary>
/// The scalars of one torch.optim.RMSprop step, shared by the CPU and ILGPU kernels.
/// Public only because it is an ILGPU kernel argument (see <see cref="AdamCoefficients"/>).
/// </summary>
/// <param name="LearningRate">lr.</param>
/// <param name="Alpha">α, the decay of the mean square.</param>
/// <param name="OneMinusAlpha">1 − α, computed in double and rounded once, as torch's Python scalar.</param>
/// <param name="Epsilon">ε, added after the square root.</param>
/// <param name="WeightDecay">The L2 penalty added to the gradient.</param>
/// <param name="Momentum">μ; 0 reads and writes no momentum buffer.</param>
/// <param name="Centered">1 to divide by the centered mean square (the mean gradient's square subtracted), else 0; 0 reads and writes no mean gradient.</param>
/// <param name="FlushSquareAverage">1 to flush the mean square to zero below float's smallest normal, else 0 (see <see cref="For"/>).</param>
internal readonly record struct RMSpropCoefficients(float LearningRate, float Alpha, float OneMinusAlpha, float Epsilon, float WeightDecay, float Momentum, int Centered, int FlushSquareAverage)
{
    /// <summary>
    /// The smallest ε at which the mean square may be flushed. Below float's smallest normal 2^−126, √s &lt; 2^−63, which
    /// is under half an ulp of any d = √s + ε with ε ≥ 2^−38, so fl(√s + ε) = ε whether s is kept or flushed and the step
    /// is torch's exactly. A smaller ε (0 included) keeps subnormal mean squares, as torch: with ε = 0 and tiny
    /// gradients, √s is the whole denominator, and a flushed s would divide by zero.
    /// </summary>
    public static readonly float SmallestFlushingEpsilon = MathF.ScaleB(1f, -38);

    /// <summary>The scalars of a step with these settings.</summary>
    public static RMSpropCoefficients For(float learningRate, float alpha, float epsilon, float weightDecay, float momentum, bool centered)
        => new(learningRate, alpha, (float)(1 - (double)alpha), epsilon, weightDecay, momentum, centered ? 1 : 0, epsilon >= SmallestFlushingEpsilon ? 1 : 0);
}
