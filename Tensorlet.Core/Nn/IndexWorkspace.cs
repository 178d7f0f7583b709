namespace Tensorlet.Nn;

/// <summary>
/// A module-owned device buffer of indices that grows to the longest length asked for and is then reused, as
/// <see cref="Workspace"/> is for floats, so that indices remade per shape (row permutations, reordered token ids)
/// allocate no device memory once the largest shape has been seen. <see cref="Get"/> returns the buffer's first
/// elements as a view that stays valid until the next call that needs a bigger buffer (the views of the most recent
/// lengths kept, as <see cref="Workspace"/> keeps its); a host array of the same
/// length, grown the same way, stages the values that <see cref="Upload"/> copies in.
/// </summary>
internal sealed class IndexWorkspace : IDisposable
{
    private readonly RecentViews<IndexTensor> views = new();
    private IndexTensor? buffer;
    private int[] host = [];

    /// <summary>The first <paramref name="length"/> indices of the buffer on <paramref name="device"/>, as a [length] view.</summary>
    public IndexTensor Get(Device device, int length)
    {
        if (buffer is not null && ReferenceEquals(buffer.Device, device) && views.Find(buffer.Storage, 0, [length]) is { IsDisposed: false } view)
        {
            return view;
        }

        if (buffer is null || buffer.Length < length || !ReferenceEquals(buffer.Device, device) || buffer.IsDisposed)
        {
            buffer?.Dispose();
            buffer = device.IndexZeros(Math.Max(1, length));
            views.Clear();
        }

        return views.Add(buffer.Storage, 0, [length], buffer.Slice(0, length));
    }

    /// <summary>The host staging array's first <paramref name="length"/> elements, for the caller to fill before <see cref="Upload"/>.</summary>
    public Span<int> Stage(int length)
    {
        if (host.Length < length)
        {
            host = new int[length];
        }

        return host.AsSpan(0, length);
    }

    /// <summary>The first <paramref name="length"/> staged values copied into the buffer on <paramref name="device"/>; the view <see cref="Get"/> returns.</summary>
    public IndexTensor Upload(Device device, int length)
    {
        var indices = Get(device, length);
        indices.CopyFrom(host.AsSpan(0, length));
        return indices;
    }

    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
        views.Clear();
    }
}
