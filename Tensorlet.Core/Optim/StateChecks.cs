using System.Globalization;

namespace Tensorlet.Optim;

/// <summary>
/// The checks a saved optimizer state passes before it is loaded, and before a checkpoint saves it: one rule for both,
/// so that whatever training gives saves and loads back, and nothing else does. Steps from finite weights and gradients
/// never give NaN, a negative mean of squares, or an infinity in a mean or sum of gradients (Adam's first moment, a
/// momentum buffer, RMSprop's mean gradient: the step that made one would have made its weight NaN or infinite). A mean
/// of squares (Adam's and AdamW's <c>exp_avg_sq</c>, RMSprop's <c>square_avg</c>) does reach +∞, where a gradient's
/// share of it, (1 − β2)·g·g or (1 − α)·g·g, overflows float (|g| above about √(FLT_MAX/(1 − β2)), 5.8e20 for
/// β2 = 0.999): the weight stays finite, its steps are then 0, and torch saves and
/// loads that +∞ too. Loaded, a value no training gives would turn every weight it touches into NaN at the next step,
/// far from the cause, so it is refused while nothing has changed.
/// </summary>
internal static class StateChecks
{
    /// <summary>
    /// Throws unless every element of <paramref name="values"/> is one that training gives <paramref name="state"/>
    /// (<see cref="IndexOfUnreachable"/>).
    /// </summary>
    /// <param name="values">The state's values.</param>
    /// <param name="state">torch's name of the state: <c>exp_avg_sq</c>, <c>momentum_buffer</c>, ...</param>
    /// <param name="what">The state's name in the message: "Adam state's second moment (exp_avg_sq)".</param>
    /// <param name="parameterName">The argument that holds the state.</param>
    /// <exception cref="ArgumentException">An element is NaN, an infinity in a state other than a mean of squares, or negative in a mean of squares.</exception>
    public static void Values(float[] values, string state, string what, string parameterName)
    {
        int bad = IndexOfUnreachable(values, state);
        if (bad >= 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The saved {what} holds {values[bad]} at element {bad}; it must be {(IsMeanOfSquares(state) ? "a mean of squares: at least 0, or +Infinity where a gradient's square overflowed float" : "finite")}."),
                parameterName);
        }
    }

    /// <summary>Whether torch's state <paramref name="state"/> is a mean of squares: Adam's and AdamW's <c>exp_avg_sq</c> and its running maximum <c>max_exp_avg_sq</c>, RMSprop's <c>square_avg</c>.</summary>
    public static bool IsMeanOfSquares(string state) => state is "exp_avg_sq" or "max_exp_avg_sq" or "square_avg";

    /// <summary>
    /// The index of the first element of <paramref name="values"/> that no training gives torch's state
    /// <paramref name="state"/>: in a mean of squares (<see cref="IsMeanOfSquares"/>), a value that is not at least 0
    /// (NaN, a negative number, -∞); in any other state, one that is not finite. -1 when every element passes.
    /// </summary>
    public static int IndexOfUnreachable(ReadOnlySpan<float> values, string state)
    {
        if (!IsMeanOfSquares(state))
        {
            return IndexOfInvalid(values, nonNegative: false);
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!(values[i] >= 0f))
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
    /// Which of an optimizer's groups have <paramref name="setting"/> ("amsgrad"), by <paramref name="flags"/> (each
    /// group's), as a clause: "it is amsgrad" or "it is not amsgrad" for one group, "group 1 is amsgrad" (the first that
    /// is) or "no group is amsgrad" for several.
    /// </summary>
    public static string Which(IReadOnlyList<bool> flags, string setting)
    {
        int first = Enumerable.Range(0, flags.Count).FirstOrDefault(g => flags[g], -1);
        return (flags.Count, first) switch
        {
            (1, 0) => $"it is {setting}",
            (1, _) => $"it is not {setting}",
            (_, >= 0) => $"group {first} is {setting}",
            _ => $"no group is {setting}",
        };
    }

    /// <summary>
    /// Throws unless a state saved with each group's <paramref name="setting"/> <paramref name="saved"/> (null for a
    /// state of one for every group: whether it holds the setting's buffer, <paramref name="savedHolds"/>) has the
    /// setting of <paramref name="own"/> in every group, naming the first group that differs.
    /// </summary>
    /// <exception cref="ArgumentException">It does not.</exception>
    public static void GroupFlags(IReadOnlyList<bool> own, bool[]? saved, bool savedHolds, string optimizer, string setting, string parameterName)
    {
        bool[] flags = saved ?? [.. Enumerable.Repeat(savedHolds, own.Count)];
        if (flags.Length != own.Count)
        {
            throw new ArgumentException($"The saved {optimizer} state holds the {setting} of {flags.Length} parameter group{(flags.Length == 1 ? "" : "s")} and this optimizer has {own.Count}.", parameterName);
        }

        for (int g = 0; g < flags.Length; g++)
        {
            if (flags[g] != own[g])
            {
                throw new ArgumentException($"The saved {optimizer} state's group {g} is {(flags[g] ? "" : "not ")}{setting}, but this optimizer's group {g} is {(own[g] ? "" : "not ")}{setting}; make the optimizer with the saved groups' {setting}.", parameterName);
            }
        }
    }

    /// <summary>
    /// The index of the first element of <paramref name="values"/> that is not finite (NaN or an infinity) or, when
    /// <paramref name="nonNegative"/>, is below 0; -1 when every element passes. The one scan for values no training
    /// gives, behind every check of saved weights, learning rates and the optimizer states that are no mean of squares
    /// (here, and in Tensorlet.Models' checkpoints).
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
