namespace Tensorlet.Backends.Ilgpu;

/// <summary>
/// Reads the ILGPU backend's choices from a command line (<c>train-step --gemm</c>, <c>--recurrence</c>): an enum member's
/// name in any case, with '-' between words allowed (<c>tiled-large</c>, <c>TiledLarge</c>, <c>fused-steps</c>). The names
/// come from the enums, so a new member is accepted and listed without changes here.
/// </summary>
internal static class IlgpuOptionNames
{
    /// <summary>Parses an <see cref="IlgpuGemmVariant"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> names no variant.</exception>
    public static IlgpuGemmVariant GemmVariant(string text) => Parse<IlgpuGemmVariant>(text, "an ILGPU GEMM variant", "tiled-large");

    /// <summary>Parses an <see cref="IlgpuRecurrence"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="text"/> names no recurrence.</exception>
    public static IlgpuRecurrence Recurrence(string text) => Parse<IlgpuRecurrence>(text, "an ILGPU LSTM recurrence", "fused-steps");

    /// <summary>The members' names, as the enum spells them, comma-separated (for messages).</summary>
    public static string Listing<TEnum>()
        where TEnum : struct, Enum => string.Join(", ", Enum.GetNames<TEnum>());

    private static TEnum Parse<TEnum>(string text, string what, string example)
        where TEnum : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(text);

        // Matching against the names, rather than Enum.TryParse, refuses what Enum.TryParse would also take:
        // numbers ("1") and flag combinations ("Tiled, Naive").
        string joined = text.Replace("-", string.Empty, StringComparison.Ordinal);
        foreach (var member in Enum.GetValues<TEnum>())
        {
            if (joined.Length > 0 && string.Equals(member.ToString(), joined, StringComparison.OrdinalIgnoreCase))
            {
                return member;
            }
        }

        throw new ArgumentException(
            $"'{text}' is not {what}; expected one of {Listing<TEnum>()} (any case, '-' between words allowed, e.g. {example}).");
    }
}
