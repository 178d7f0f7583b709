namespace Tensorlet.Models.Checkpoints;

/// <summary>The on-disk names and element sizes of <see cref="SafeTensorDType"/>.</summary>
internal static class SafeTensorDTypes
{
    private static readonly SafeTensorDType[] All = Enum.GetValues<SafeTensorDType>();

    /// <summary>The dtype names this reader accepts, for error messages.</summary>
    public static string SupportedNames => string.Join(", ", All.Select(Name));

    /// <summary>The name used in the safetensors header: "F32", "I64", "BOOL", ...</summary>
    public static string Name(this SafeTensorDType dtype) => dtype == SafeTensorDType.Bool ? "BOOL" : dtype.ToString();

    /// <summary>Bytes per element.</summary>
    public static int Size(this SafeTensorDType dtype) => dtype switch
    {
        SafeTensorDType.F64 or SafeTensorDType.I64 => 8,
        SafeTensorDType.F32 or SafeTensorDType.I32 => 4,
        SafeTensorDType.F16 or SafeTensorDType.BF16 or SafeTensorDType.I16 => 2,
        SafeTensorDType.I8 or SafeTensorDType.U8 or SafeTensorDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), $"Unknown dtype {dtype}."),
    };

    /// <summary>True for the integer and bool types, whose exact values a tensor keeps.</summary>
    public static bool IsInteger(this SafeTensorDType dtype) =>
        dtype is SafeTensorDType.I64 or SafeTensorDType.I32 or SafeTensorDType.I16 or SafeTensorDType.I8
            or SafeTensorDType.U8 or SafeTensorDType.Bool;

    /// <summary>Parses a header dtype name (case-sensitive, as the format specifies).</summary>
    public static bool TryParse(string name, out SafeTensorDType dtype)
    {
        foreach (var candidate in All)
        {
            if (candidate.Name() == name)
            {
                dtype = candidate;
                return true;
            }
        }

        dtype = default;
        return false;
    }
}
