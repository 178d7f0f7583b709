namespace Tensorlet.Nn;

/// <summary>
/// A layer-owned device buffer that grows to the largest shape asked for and is then reused, so
/// steady-state training allocates no device memory. <see cref="Get"/> returns a view that stays
/// valid until the next call that needs a bigger buffer; the views of the most recent shapes are kept
/// (<see cref="RecentViews{TView}"/>), so batches of a few shapes in turn allocate no managed memory either.
/// </summary>
internal sealed class Workspace : IDisposable
{
    private readonly RecentViews<Tensor> views = new();
    private Tensor? buffer;

    /// <exception cref="ArgumentOutOfRangeException">rows × columns is more than one tensor holds.</exception>
    public Tensor Get(Device device, int rows, int columns)
    {
        if (buffer is not null && ReferenceEquals(buffer.Device, device) && views.Find(buffer.Storage, 0, [rows, columns]) is { IsDisposed: false } view)
        {
            return view;
        }

        long needed = (long)rows * columns;
        if (needed > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"A buffer of {rows} × {columns} = {needed} values is more than one tensor holds ({int.MaxValue}).");
        }

        if (buffer is null || buffer.Length < needed || !ReferenceEquals(buffer.Device, device))
        {
            buffer?.Dispose();
            buffer = device.Zeros(checked((int)Math.Max(1, needed)));
            views.Clear();
        }

        return views.Add(buffer.Storage, 0, [rows, columns], buffer.Slice(0, (int)needed).Reshape(rows, columns));
    }

    /// <summary>Row i of the result is row order[i] of <paramref name="rows"/> (<see cref="Ops.GatherRows"/>), in this buffer shaped as <paramref name="rows"/>.</summary>
    public Tensor GatherRows(Tensor rows, IndexTensor order)
    {
        var result = Get(rows.Device, rows.Rows, rows.Columns);
        Ops.GatherRows(rows, order, result);
        return result;
    }

    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
        views.Clear();
    }
}
