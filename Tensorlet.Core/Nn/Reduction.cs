namespace Tensorlet.Nn;

/// <summary>How a loss combines its per-element terms, as PyTorch's <c>reduction</c> argument.</summary>
public enum Reduction
{
    /// <summary>The mean over the terms (over the non-ignored targets for cross-entropy).</summary>
    Mean,

    /// <summary>The sum of the terms.</summary>
    Sum,
}
