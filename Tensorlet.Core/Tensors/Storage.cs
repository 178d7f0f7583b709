namespace Tensorlet;

/// <summary>
/// One device buffer. Exactly one tensor owns it and disposes it; views of that tensor share it.
/// </summary>
internal abstract class Storage<T> : IDisposable
    where T : unmanaged
{
    protected Storage(long length)
    {
        Length = length;
    }

    /// <summary>Raised once, when the buffer is released.</summary>
    public event Action? Released;

    public long Length { get; }

    public bool IsDisposed { get; private set; }

    public abstract void CopyFrom(ReadOnlySpan<T> source, long offset);

    public abstract void CopyTo(Span<T> destination, long offset);

    public void Dispose()
    {
        if (IsDisposed)
        {
            return;
        }

        IsDisposed = true;
        Release();
        Released?.Invoke();
    }

    protected abstract void Release();
}
