using Tensorlet.Kernels;

namespace Tensorlet;

/// <summary>An int32 tensor of indices on one device: token ids for gathers, and targets for the loss.</summary>
public sealed class IndexTensor : DeviceTensor<int>
{
    /// <summary>Shared by every view of the buffer, as the buffer is.</summary>
    private readonly IndexBounds bounds;

    /// <summary>A tensor that owns <paramref name="storage"/>, a new zero-filled buffer.</summary>
    internal IndexTensor(Device device, Storage<int> storage, int[] shape)
        : this(device, storage, 0, shape, ownsStorage: true, new IndexBounds(storage.Length))
    {
    }

    private IndexTensor(Device device, Storage<int> storage, long offset, int[] shape, bool ownsStorage, IndexBounds bounds)
        : base(device, storage, offset, shape, ownsStorage)
    {
        this.bounds = bounds;
    }

    /// <summary>A view of rows <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/> of the first dimension.</summary>
    public IndexTensor Slice(int start, int count)
    {
        var sliced = SliceShape(start, count);
        return new IndexTensor(Device, Storage, Offset + ((long)start * (Length / Math.Max(1, Shape[0]))), sliced, ownsStorage: false, bounds);
    }

    /// <summary>A view of the same elements with another shape of equal element count.</summary>
    public IndexTensor Reshape(params int[] shape) => new(Device, Storage, Offset, ReshapeShape(shape), ownsStorage: false, bounds);

    /// <summary>A copy of the indices on <paramref name="device"/> (through host memory), owning its buffer.</summary>
    public IndexTensor To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var copy = device.IndexZeros([.. Shape]);
        copy.CopyFrom(ToArray());
        return copy;
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/>, naming the value and its position, if an index is outside
    /// [0, <paramref name="columns"/>). Free on the hot path: only when the host's bound on the values
    /// (see <see cref="IndexBounds"/>) allows an index outside does it read the indices back, waiting for the device.
    /// </summary>
    internal void ThrowIfAnyColumnOutside(int columns)
    {
        if (MayHoldOutside(columns))
        {
            IndexChecks.ThrowIfAnyColumnOutside(ReadBackAndBound(), columns);
        }
    }

    /// <summary>As <see cref="ThrowIfAnyColumnOutside"/>, for loss targets: names the value and its row.</summary>
    internal void ThrowIfAnyTargetOutside(int classes)
    {
        if (MayHoldOutside(classes))
        {
            IndexChecks.ThrowIfAnyTargetOutside(ReadBackAndBound(), classes);
        }
    }

    /// <summary>Whether an element may equal <paramref name="value"/>, from the host's bound alone (no read-back).</summary>
    internal bool MayContain(int value)
    {
        var (min, max) = bounds.Of(Offset, Length);
        return min <= value && value <= max;
    }

    /// <summary>The host's bound [min, max] on the values (see <see cref="IndexBounds"/>); min &gt; max when there are none.</summary>
    internal (int Min, int Max) Bound => bounds.Of(Offset, Length);

    /// <summary>Records that a device kernel wrote values in [<paramref name="min"/>, <paramref name="max"/>] over the whole tensor.</summary>
    internal void RecordWritten(int min, int max) => bounds.Record(Offset, Length, min, max);

    private protected override void CopyFromHost(ReadOnlySpan<int> source)
    {
        var (min, max) = IndexBounds.RangeOf(source);
        try
        {
            base.CopyFromHost(source);
        }
        catch
        {
            // Part of the copy may have landed.
            bounds.Forget(Offset, Length);
            throw;
        }

        bounds.Record(Offset, Length, min, max);
    }

    private bool MayHoldOutside(int count)
    {
        var (min, max) = bounds.Of(Offset, Length);
        return min <= max && (min < 0 || max >= count);
    }

    // The slow path: the exact values, whose range replaces the bound so that a false alarm is not raised again.
    private int[] ReadBackAndBound()
    {
        var values = ToArray();
        var (min, max) = IndexBounds.RangeOf(values);
        bounds.Record(Offset, Length, min, max);
        return values;
    }
}
