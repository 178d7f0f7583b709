using System.Globalization;

namespace Tensorlet.Optim;

/// <summary>
/// The checks a saved optimizer state passes before it is loaded. Steps from finite gradients never give NaN, an
/// infinity or a negative second moment (a mean of squares); loaded, such a value would turn every weight it touches
/// into NaN at the next step, far from the cause, so it is refused while nothing has changed.
/// </summary>
internal static class StateChecks
{
    /// <summary>
    /// Throws unless every element of <paramref name="values"/> is finite and, when <paramref name="nonNegative"/>, at
    /// least 0. A comparison refuses NaN whatever its sign bit.
    /// </summary>
    /// <param name="values">The state's values.</param>
    /// <param name="nonNegative">Whether a negative value is impossible too (Adam's second moment).</param>
    /// <param name="what">The state's name in the message: "Adam state's second moment (exp_avg_sq)".</param>
    /// <param name="parameterName">The argument that holds the state.</param>
    /// <exception cref="ArgumentException">An element is not finite, or negative where it may not be.</exception>
    public static void Values(float[] values, bool nonNegative, string what, string parameterName)
    {
        int bad = IndexOfInvalid(values, nonNegative);
        if (bad >= 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The saved {what} holds {values[bad]} at element {bad}; it must be finite{(nonNegative ? " and at least 0" : "")}."),
                parameterName);
        }
    }

    /// <summary>
    /// How far below its mean gradient's square a centered mean square may lie, relative to that square. s ≥ a² holds in
    /// exact arithmetic (both are means over the same gradients), but float rounding drifts: each step's rounding of s
    /// and a, about 2⁻²⁴ relative, decays by α a step, so the drift settles near 2⁻²⁴/(1 − α). torch's own float32
    /// training reached s − a² = −1.3e-5 relative at α = 0.99 (3000 steps of a constant gradient), and α = 0.9999 allows
    /// about 100 times that. 1e-2 accepts every such state, and refuses a corrupt one, which is off by far more (a mean
    /// square of 0 beside a mean gradient of 1 is off by 1).
    /// </summary>
    public const double CenteredDrift = 1e-2;

    /// <summary>
    /// The index of the first element whose mean gradient's square lies above its mean square by more than
    /// <see cref="CenteredDrift"/> of that square and float's smallest normal (the kernels flush a mean square below it
    /// to 0 beside a normal mean gradient); -1 when every element passes.
    /// </summary>
    public static int IndexOfUncentered(ReadOnlySpan<float> squareAverage, ReadOnlySpan<float> gradientAverage)
    {
        for (int i = 0; i < squareAverage.Length; i++)
        {
            double square = (double)gradientAverage[i] * gradientAverage[i];
            if (square - squareAverage[i] > (CenteredDrift * square) + Kernels.Cpu.FloatLimits.SmallestNormal)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Throws unless a state saved with <paramref name="savedGroups"/>, <paramref name="learningRates"/> and
    /// <paramref name="initialLearningRates"/> (as <see cref="ParameterGroupLayout.Mismatch"/> takes them) fits
    /// <paramref name="groups"/>: the same group for every parameter, and finite rates of at least 0 for each group.
    /// </summary>
    /// <exception cref="ArgumentException">It does not.</exception>
    public static void Groups(ParameterGroupLayout groups, int[]? savedGroups, float[]? learningRates, float[]? initialLearningRates, string parameterName)
    {
        if (groups.Mismatch(savedGroups, learningRates, initialLearningRates) is { } mismatch)
        {
            throw new ArgumentException($"The saved optimizer state does not fit this optimizer's parameter groups: {mismatch}.", parameterName);
        }
    }

    /// <summary>
    /// The index of the first element of <paramref name="values"/> that is not finite (NaN or an infinity) or, when
    /// <paramref name="nonNegative"/>, is below 0; -1 when every element passes. The one scan for values no training
    /// gives, behind every check of saved weights and optimizer state (here, and in Tensorlet.Models' checkpoints).
    /// </summary>
    public static int IndexOfInvalid(ReadOnlySpan<float> values, bool nonNegative)
    {
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!float.IsFinite(v) || (nonNegative && v < 0f))
            {
                return i;
            }
        }

        return -1;
    }
}
