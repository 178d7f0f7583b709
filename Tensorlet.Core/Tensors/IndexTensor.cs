namespace Tensorlet;

/// <summary>An int32 tensor of indices on one device: token ids for gathers, and targets for the loss.</summary>
public sealed class IndexTensor : DeviceTensor<int>
{
    internal IndexTensor(Device device, Storage<int> storage, long offset, int[] shape, bool ownsStorage = true)
        : base(device, storage, offset, shape, ownsStorage)
    {
    }

    /// <summary>A view of rows <paramref name="start"/> to <paramref name="start"/>+<paramref name="count"/> of the first dimension.</summary>
    public IndexTensor Slice(int start, int count)
    {
        var sliced = SliceShape(start, count);
        return new IndexTensor(Device, Storage, Offset + ((long)start * (Length / Math.Max(1, Shape[0]))), sliced, ownsStorage: false);
    }

    /// <summary>A view of the same elements with another shape of equal element count.</summary>
    public IndexTensor Reshape(params int[] shape) => new(Device, Storage, Offset, ReshapeShape(shape), ownsStorage: false);
}
