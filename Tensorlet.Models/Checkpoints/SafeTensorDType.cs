namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// The safetensors element types Tensorlet reads. All are little-endian in the file; floating types
/// are converted to float32 on read, integer and bool types keep their exact values as well.
/// Tensorlet writes F32, I32 and I64.
/// </summary>
internal enum SafeTensorDType
{
    /// <summary>IEEE float64 ("F64").</summary>
    F64,

    /// <summary>IEEE float32 ("F32").</summary>
    F32,

    /// <summary>IEEE float16 ("F16").</summary>
    F16,

    /// <summary>bfloat16, the top half of a float32 ("BF16").</summary>
    BF16,

    /// <summary>Signed 64-bit integer ("I64"), torch's index type.</summary>
    I64,

    /// <summary>Signed 32-bit integer ("I32").</summary>
    I32,

    /// <summary>Signed 16-bit integer ("I16").</summary>
    I16,

    /// <summary>Signed 8-bit integer ("I8").</summary>
    I8,

    /// <summary>Unsigned 8-bit integer ("U8").</summary>
    U8,

    /// <summary>Boolean, one byte, 0 or 1 ("BOOL").</summary>
    Bool,
}
