namespace Tensorlet.Nn;

/// <summary>
/// What a <see cref="Conv1d"/> pads its input with, as nn.Conv1d's <c>padding_mode</c>. For an input x of length L
/// and a padded position i (0 the input's first position, negative before it, L or more after it):
/// </summary>
public enum PaddingMode
{
    /// <summary><c>'zeros'</c>: 0 outside the input.</summary>
    Zeros,

    /// <summary>
    /// <c>'reflect'</c>: the input mirrored about its end positions, not repeating them: x[−i] before it and
    /// x[2(L − 1) − i] after it. Each side's padding must be below L.
    /// </summary>
    Reflect,

    /// <summary><c>'replicate'</c>: the end positions repeated, x[0] before the input and x[L − 1] after it.</summary>
    Replicate,

    /// <summary>
    /// <c>'circular'</c>: the input wrapped around, x[i + L] before it and x[i − L] after it. Each side's padding must be
    /// at most L (it wraps around once).
    /// </summary>
    Circular,
}
