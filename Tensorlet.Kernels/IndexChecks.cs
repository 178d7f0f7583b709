namespace Tensorlet.Kernels;

/// <summary>
/// The range checks on index arguments, on host memory, shared by the <c>cpu</c> kernels and by the ops' check
/// before an ILGPU kernel is queued, so every device reports a bad index with the same exception and message: one
/// line that names the value, its position and the range. The value is in the message and not the exception's
/// ActualValue, which .NET would add to the message as a second line.
/// </summary>
internal static class IndexChecks
{
    /// <summary>Throws for the first index outside [0, <paramref name="columns"/>), naming its value and position.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, <paramref name="columns"/>).</exception>
    public static void ThrowIfAnyColumnOutside(ReadOnlySpan<int> indices, int columns)
    {
        for (int i = 0; i < indices.Length; i++)
        {
            if ((uint)indices[i] >= (uint)columns)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {indices[i]} at position {i} is outside [0, {columns}).");
            }
        }
    }

    /// <summary>
    /// Throws for the first target outside [0, <paramref name="classes"/>), naming its value and row; a target equal to
    /// <paramref name="ignoreIndex"/> (when there is one) is skipped, wherever it lies.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A target other than the ignored one is outside [0, <paramref name="classes"/>).</exception>
    public static void ThrowIfAnyTargetOutside(ReadOnlySpan<int> targets, int classes, int? ignoreIndex = null)
    {
        for (int r = 0; r < targets.Length; r++)
        {
            if ((uint)targets[r] >= (uint)classes && targets[r] != ignoreIndex)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), $"Target {targets[r]} of row {r} is outside the {classes} classes [0, {classes}).");
            }
        }
    }
}
