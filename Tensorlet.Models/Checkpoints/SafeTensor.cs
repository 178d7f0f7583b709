namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// One named tensor of a safetensors file: its dtype, its shape (row-major, PyTorch's layout) and its
/// values as float32. Integer and bool tensors also keep their exact values (<see cref="ToInt64Array"/>),
/// since token indices above 2^24 do not survive float32.
/// </summary>
internal sealed class SafeTensor
{
    private readonly int[] shape;
    private readonly long[]? integers;

    /// <summary>Creates an F32 tensor. <paramref name="data"/> is kept, not copied.</summary>
    /// <exception cref="ArgumentException">The name is empty, a dimension is negative, or the data length is not the shape's element count.</exception>
    public SafeTensor(string name, int[] shape, float[] data)
        : this(name, SafeTensorDType.F32, shape, data, null)
    {
    }

    private SafeTensor(string name, SafeTensorDType dtype, int[] shape, float[] data, long[]? integers)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        var count = CountElements(shape);
        if (count < 0)
        {
            throw new ArgumentException($"Tensor '{name}' has a negative dimension in shape {FormatShape(shape)}.", nameof(shape));
        }

        if (data.LongLength != count)
        {
            throw new ArgumentException($"Tensor '{name}' has shape {FormatShape(shape)} ({count} elements) but {data.LongLength} values.", nameof(data));
        }

        Name = name;
        DType = dtype;
        this.shape = (int[])shape.Clone();
        Data = data;
        this.integers = integers;
    }

    /// <summary>The tensor's name in the file, e.g. "lstm.weight_ih_l0".</summary>
    public string Name { get; }

    /// <summary>The element type in the file (the values are always also available as float32).</summary>
    public SafeTensorDType DType { get; }

    /// <summary>The shape, outermost dimension first; empty for a scalar.</summary>
    public IReadOnlyList<int> Shape => shape;

    /// <summary>The shape as "[3, 6, 7]", for messages.</summary>
    public string ShapeText => FormatShape(shape);

    /// <summary>The number of elements: the product of the shape (1 for a scalar).</summary>
    public long ElementCount => Data.LongLength;

    /// <summary>The values as float32, row-major. Converted on read for non-F32 dtypes.</summary>
    public float[] Data { get; }

    /// <summary>Creates an I64 tensor, the dtype PyTorch uses for indices.</summary>
    public static SafeTensor FromInt64(string name, int[] shape, long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new SafeTensor(name, SafeTensorDType.I64, shape, Array.ConvertAll(values, v => (float)v), (long[])values.Clone());
    }

    /// <summary>Creates an I32 tensor.</summary>
    public static SafeTensor FromInt32(string name, int[] shape, int[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new SafeTensor(name, SafeTensorDType.I32, shape, Array.ConvertAll(values, v => (float)v), Array.ConvertAll(values, v => (long)v));
    }

    /// <summary>Creates a tensor read from a file; the reader has checked that everything agrees.</summary>
    internal static SafeTensor FromFile(string name, SafeTensorDType dtype, int[] shape, float[] data, long[]? integers) =>
        new(name, dtype, shape, data, integers);

    /// <summary>The exact values of an integer or bool tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds floating-point values.</exception>
    public long[] ToInt64Array() => (long[])RequireIntegers().Clone();

    /// <summary>The exact values of an integer or bool tensor, as int32 (token indices, targets).</summary>
    /// <exception cref="InvalidOperationException">The tensor holds floating-point values, or a value does not fit in int32.</exception>
    public int[] ToInt32Array()
    {
        var values = RequireIntegers();
        var result = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is < int.MinValue or > int.MaxValue)
            {
                throw new InvalidOperationException($"Tensor '{Name}' holds {values[i]} at element {i}, which does not fit in int32.");
            }

            result[i] = (int)values[i];
        }

        return result;
    }

    /// <summary>The values as 64-bit integers for writing (I32/I64 tensors only); null for floating tensors.</summary>
    internal long[]? IntegerValues => integers;

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {DType.Name()} {ShapeText}";

    /// <summary>The product of the dimensions, or -1 if one is negative; saturates at long.MaxValue.</summary>
    internal static long CountElements(IReadOnlyList<int> dims)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0)
            {
                return -1;
            }

            count = d == 0 ? 0 : (count > long.MaxValue / d ? long.MaxValue : count * d);
        }

        return count;
    }

    /// <summary>Formats a shape as "[3, 6, 7]".</summary>
    internal static string FormatShape(IEnumerable<long> dims) => "[" + string.Join(", ", dims) + "]";

    private static string FormatShape(IEnumerable<int> dims) => "[" + string.Join(", ", dims) + "]";

    private long[] RequireIntegers() =>
        integers ?? throw new InvalidOperationException($"Tensor '{Name}' is {DType.Name()}, not an integer tensor.");
}
