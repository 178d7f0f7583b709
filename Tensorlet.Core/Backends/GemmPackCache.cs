namespace Tensorlet;

/// <summary>
/// Lets a GEMM keep its B operand packed between calls. A layer that multiplies by the same weight
/// many times (an LSTM's recurrent weight, 99 times a batch) passes one cache per weight and operand
/// layout, and calls <see cref="Invalidate"/> whenever the weight changes (after each optimizer step).
/// Devices that do not pack ignore it.
/// </summary>
public sealed class GemmPackCache : IDisposable
{
    /// <summary>Whether the packed copy must be rebuilt on next use.</summary>
    public bool IsStale { get; private set; } = true;

    /// <summary>Backend-owned packed data; null until the first GEMM that uses the cache.</summary>
    internal object? Packed { get; set; }

    /// <summary>Marks the packed copy as out of date, because the weight has changed.</summary>
    public void Invalidate() => IsStale = true;

    internal void MarkFresh() => IsStale = false;

    /// <summary>Releases the packed copy.</summary>
    public void Dispose()
    {
        (Packed as IDisposable)?.Dispose();
        Packed = null;
        IsStale = true;
    }
}
