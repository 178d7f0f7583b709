using System.Buffers;
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
            var values = ReadBackAndBound(bounds.Writes);
            try
            {
                IndexChecks.ThrowIfAnyColumnOutside(values.AsSpan(0, (int)Length), columns);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(values);
            }
        }
    }

    /// <summary>
    /// As <see cref="ThrowIfAnyColumnOutside"/>, for loss targets: names the value and its row. A target equal to
    /// <paramref name="ignoreIndex"/> (when not null) passes wherever it lies. Returns how many targets are not
    /// <paramref name="ignoreIndex"/>. Targets that may hold it are read back (into a pooled buffer, so that a training
    /// step with ignored targets allocates nothing) once per write of the buffer: a check that passed is remembered
    /// (see <see cref="IndexBounds"/>), so a loss and the op under it read the same targets once.
    /// </summary>
    internal int CheckTargets(int classes, int? ignoreIndex = null)
    {
        if (!MayHoldOutside(classes) && !(ignoreIndex is { } ignored && MayContain(ignored)))
        {
            return (int)Length;
        }

        if (bounds.CountedIfPassed(Offset, Length, classes, ignoreIndex) is { } remembered)
        {
            return remembered;
        }

        long writesBefore = bounds.Writes;
        var values = ReadBackAndBound(writesBefore);
        try
        {
            var exact = values.AsSpan(0, (int)Length);
            IndexChecks.ThrowIfAnyTargetOutside(exact, classes, ignoreIndex);
            int counted = ignoreIndex is { } skipped ? exact.Length - exact.Count(skipped) : exact.Length;
            bounds.RememberPassedTargets(writesBefore, Offset, Length, classes, ignoreIndex, counted);
            return counted;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(values);
        }
    }

    /// <summary>Whether an element may equal <paramref name="value"/>, from the host's bound alone (no read-back).</summary>
    private bool MayContain(int value)
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

    // The slow path: the exact values, in the first Length elements of an array the caller returns to the shared pool,
    // whose range replaces the bound so that a false alarm is not raised again.
    private int[] ReadBackAndBound(long writesBefore)
    {
        var values = ArrayPool<int>.Shared.Rent((int)Length);
        var exact = values.AsSpan(0, (int)Length);
        CopyTo(exact);
        var (min, max) = IndexBounds.RangeOf(exact);
        bounds.Narrow(writesBefore, Offset, Length, min, max);
        return values;
    }
}
