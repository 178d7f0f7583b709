using System.Globalization;

namespace Tensorlet;

/// <summary>A float32 tensor on one device. See <see cref="DeviceTensor{T}"/> for ownership rules.</summary>
public sealed class Tensor : DeviceTensor<float>
{
    internal Tensor(Device device, Storage<float> storage, long offset, int[] shape, bool ownsStorage = true)
        : base(device, storage, offset, shape, ownsStorage)
    {
    }

    /// <summary>A view of rows <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/> of the first dimension.</summary>
    public Tensor Slice(int start, int count)
    {
        var sliced = SliceShape(start, count);
        return new Tensor(Device, Storage, Offset + ((long)start * (Length / Math.Max(1, Shape[0]))), sliced, ownsStorage: false);
    }

    /// <summary>A view of the same elements with another shape of equal element count.</summary>
    public Tensor Reshape(params int[] shape) => new(Device, Storage, Offset, ReshapeShape(shape), ownsStorage: false);

    /// <summary>A copy of the tensor on <paramref name="device"/> (through host memory), owning its buffer; the copy is new even on the same device.</summary>
    public Tensor To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var copy = device.Zeros([.. Shape]);
        copy.CopyFrom(ToArray());
        return copy;
    }

    internal static int[] CheckShape(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0)
        {
            throw new ArgumentException("A tensor needs at least one dimension.", nameof(shape));
        }

        foreach (var size in shape)
        {
            if (size < 0)
            {
                throw new ArgumentException($"Shape {FormatShape(shape)} has a negative dimension.", nameof(shape));
            }
        }

        // Kernels index a tensor with 32-bit offsets (and spans), so more elements than int.MaxValue cannot be held.
        // The columns (every dimension after the first) are bounded too: a tensor of 0 rows still has them.
        long columns = 1;
        for (int i = 1; i < shape.Length; i++)
        {
            columns = Math.Min(columns * shape[i], (long)int.MaxValue + 1);
        }

        if (columns > int.MaxValue)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Shape {FormatShape(shape)} has rows of more than {int.MaxValue:N0} elements, the most a tensor holds."),
                nameof(shape));
        }

        if (columns * shape[0] > int.MaxValue)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Shape {FormatShape(shape)} has more than {int.MaxValue:N0} elements, the most a tensor holds."),
                nameof(shape));
        }

        return (int[])shape.Clone();
    }

    internal static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (var size in shape)
        {
            count = checked(count * size);
        }

        return count;
    }

    internal static string FormatShape(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";
}
