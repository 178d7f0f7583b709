using Tensorlet.Kernels;

namespace Tensorlet.Onnx;

/// <summary>One dimension of a graph input or output: a fixed size, or a symbolic name (e.g. <c>"T"</c>) the caller chooses at run time.</summary>
internal readonly record struct OnnxDimension
{
    private OnnxDimension(long size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The fixed size, or -1 for a symbolic dimension.</summary>
    public long Size { get; }

    /// <summary>The symbolic name, or null for a fixed size.</summary>
    public string? Symbol { get; }

    /// <summary>A fixed size.</summary>
    public static implicit operator OnnxDimension(int size) => Fixed(size);

    /// <summary>A symbolic dimension.</summary>
    public static implicit operator OnnxDimension(string symbol) => Named(symbol);

    /// <summary>A fixed size.</summary>
    public static OnnxDimension Fixed(long size)
    {
        ArgumentChecks.ThrowIfNegative(size);
        return new(size, null);
    }

    /// <summary>A symbolic dimension.</summary>
    public static OnnxDimension Named(string symbol)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        return new(-1, symbol);
    }

    /// <inheritdoc/>
    public override string ToString() => Symbol ?? Size.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
