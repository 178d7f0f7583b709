namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// Reads an <see cref="IlgpuGemmVariant"/> from a command line: its name in any case, with '-' between words allowed
/// (<c>tiled-large</c>, <c>TiledLarge</c>, <c>cublas</c>). The names come from the enum, so a new variant is accepted
/// and listed without changes here.
/// </summary>
internal static class IlgpuGemmVariantNames
{
    /// <summary>The variants' names, as the enum spells them, comma-separated (for messages).</summary>
    public static string Listing => string.Join(", ", Enum.GetNames<IlgpuGemmVariant>());

    /// <summary>Parses a variant name.</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> names no variant.</exception>
    public static IlgpuGemmVariant Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // Matching against the names, rather than Enum.TryParse, refuses what Enum.TryParse would also take:
        // numbers ("1") and flag combinations ("Tiled, Naive").
        string joined = text.Replace("-", string.Empty, StringComparison.Ordinal);
        foreach (var variant in Enum.GetValues<IlgpuGemmVariant>())
        {
            if (joined.Length > 0 && string.Equals(variant.ToString(), joined, StringComparison.OrdinalIgnoreCase))
            {
                return variant;
            }
        }

        throw new ArgumentException(
            $"'{text}' is not an ILGPU GEMM variant; expected one of {Listing} (any case, '-' between words allowed, e.g. tiled-large).");
    }
}
