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
