namespace Tensorlet;

/// <summary>
/// A dense, row-major array of <typeparamref name="T"/> on one device. A tensor made by a
/// <see cref="Device"/> owns its buffer and frees it on <see cref="Dispose"/>; a view made by
/// slicing or reshaping shares its owner's buffer and must not outlive it.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public abstract class DeviceTensor<T> : IDisposable
    where T : unmanaged
{
    private readonly int[] shape;
    private bool disposed;

    private protected DeviceTensor(Device device, Storage<T> storage, long offset, int[] shape, bool ownsStorage)
    {
        Device = device;
        Storage = storage;
        Offset = offset;
        this.shape = shape;
        OwnsStorage = ownsStorage;
        Length = Tensor.ElementCount(shape);

        // The product of the later dimensions, not Length / Rows: a tensor of 0 rows still has its columns.
        Columns = (int)Tensor.ElementCount(shape.AsSpan(1));
    }

    /// <summary>The device that holds the data.</summary>
    public Device Device { get; }

    /// <summary>The shape, outermost dimension first.</summary>
    public IReadOnlyList<int> Shape => shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => shape.Length;

    /// <summary>The number of elements.</summary>
    public long Length { get; }

    /// <summary>The size of the first dimension: the rows, when the tensor is read as a matrix.</summary>
    public int Rows => shape[0];

    /// <summary>The product of every dimension after the first: the columns, when the tensor is read as a matrix.</summary>
    public int Columns { get; }

    /// <summary>Whether this tensor owns its buffer (false for views).</summary>
    internal bool OwnsStorage { get; }

    /// <summary>Whether the tensor, the owner of a view's buffer, or the device has been disposed.</summary>
    public bool IsDisposed => disposed || Storage.IsDisposed || Device.IsDisposed;

    internal Storage<T> Storage { get; }

    internal long Offset { get; }

    /// <summary>The shape written as <c>[a, b, c]</c>, for messages.</summary>
    public string ShapeText => Tensor.FormatShape(shape);

    /// <summary>Copies <paramref name="source"/> into the tensor; its length must equal <see cref="Length"/>.</summary>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        ThrowIfDisposed();
        if (source.Length != Length)
        {
            throw new ArgumentException($"Cannot copy {source.Length} elements into a tensor of shape {ShapeText} ({Length} elements).", nameof(source));
        }

        CopyFromHost(source);
    }

    /// <summary>Copies the tensor into <paramref name="destination"/>, waiting for queued kernels first.</summary>
    public void CopyTo(Span<T> destination)
    {
        ThrowIfDisposed();
        if (destination.Length != Length)
        {
            throw new ArgumentException($"Cannot copy a tensor of shape {ShapeText} ({Length} elements) into {destination.Length} elements.", nameof(destination));
        }

        Device.Backend.Synchronize();
        Device.CountHostCopy();
        Storage.CopyTo(destination, Offset);
    }

    /// <summary>Copies the tensor into a new host array.</summary>
    public T[] ToArray()
    {
        var result = new T[Length];
        CopyTo(result);
        return result;
    }

    /// <summary>Frees the buffer if this tensor owns it; a view only marks itself unusable.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        if (OwnsStorage)
        {
            Storage.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name}{ShapeText} on {Device.Name}";

    // No objectName: with one, the message gains a second line ("Object name: ...") that repeats what it says.
    internal void ThrowIfDisposed()
    {
        if (Device.IsDisposed)
        {
            // On a GPU its buffer went with the accelerator: reading it would fault, not fail.
            throw new ObjectDisposedException(objectName: null, $"The tensor of shape {ShapeText} on {Device.Name} was used after its device was disposed; dispose a device after its tensors.");
        }

        if (IsDisposed)
        {
            throw new ObjectDisposedException(objectName: null, $"The tensor of shape {ShapeText} on {Device.Name} was used after it (or the tensor it views) was disposed.");
        }
    }

    /// <summary>
    /// Copies a checked <paramref name="source"/> of <see cref="Length"/> elements into the buffer at <see cref="Offset"/>;
    /// <see cref="IndexTensor"/> adds to it the bound on its values that lets the ops check indices without reading them back.
    /// </summary>
    private protected virtual void CopyFromHost(ReadOnlySpan<T> source) => Storage.CopyFrom(source, Offset);

    private protected int[] SliceShape(int start, int count)
    {
        ThrowIfDisposed();
        if (start < 0 || count < 0 || start + count > shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice [{start}, {start + count}) is outside the first dimension of shape {ShapeText}.");
        }

        var sliced = (int[])shape.Clone();
        sliced[0] = count;
        return sliced;
    }

    private protected int[] ReshapeShape(int[] newShape)
    {
        ThrowIfDisposed();
        var checkedShape = Tensor.CheckShape(newShape);
        if (Tensor.ElementCount(checkedShape) != Length)
        {
            throw new ArgumentException($"Cannot reshape {ShapeText} ({Length} elements) to {Tensor.FormatShape(checkedShape)}.", nameof(newShape));
        }

        return checkedShape;
    }
}
