namespace Tensorlet.Nn;

/// <summary>
/// Cached reshaped views of a tensor, one per source buffer and shape (the most recent <see cref="RecentViews{TView}.Capacity"/>),
/// so a module that reads an input of any rank as a matrix, or gives its output the input's leading dimensions,
/// allocates nothing once it has seen each shape of its batches.
/// </summary>
internal sealed class ShapeView
{
    private readonly RecentViews<Tensor> views = new();

    /// <summary>The number of rows of <paramref name="x"/> read as a matrix by its last dimension.</summary>
    public static int RowsByLast(DeviceTensor<float> x) => x.Shape[^1] == 0 ? 0 : (int)(x.Length / x.Shape[^1]);

    /// <summary><paramref name="source"/> as [rows, columns].</summary>
    public Tensor Matrix(Tensor source, int rows, int columns) => Get(source, [rows, columns]);

    /// <summary><paramref name="source"/> shaped as <paramref name="like"/>'s dimensions but the last, then <paramref name="last"/>.</summary>
    public Tensor Like<T>(Tensor source, DeviceTensor<T> like, int last)
        where T : unmanaged
        => Shaped(source, like.Shape, like.Rank - 1, last);

    /// <summary><paramref name="source"/> shaped as all of <paramref name="like"/>'s dimensions, then <paramref name="last"/> (for index inputs).</summary>
    public Tensor Append(Tensor source, IndexTensor like, int last) => Shaped(source, like.Shape, like.Rank, last);

    /// <summary><paramref name="source"/> shaped as <paramref name="like"/> with dimension <paramref name="dim"/> of size <paramref name="size"/> (a narrowed copy's shape).</summary>
    public Tensor Resized(Tensor source, Tensor like, int dim, int size)
    {
        Span<int> shape = stackalloc int[like.Rank];
        for (int d = 0; d < shape.Length; d++)
        {
            shape[d] = like.Shape[d];
        }

        shape[dim] = size;
        return Get(source, shape);
    }

    /// <summary><paramref name="source"/> shaped as <paramref name="dims"/>.</summary>
    public Tensor Reshaped(Tensor source, params ReadOnlySpan<int> dims) => Get(source, dims);

    /// <summary>Rows [start, start + count) of <paramref name="all"/>'s first dimension (<see cref="Tensor.Slice"/>).</summary>
    public Tensor Rows(Tensor all, int start, int count)
    {
        long offset = all.Offset + (start * (all.Length / Math.Max(1, all.Rows)));
        Span<int> shape = stackalloc int[all.Rank];
        for (int d = 1; d < shape.Length; d++)
        {
            shape[d] = all.Shape[d];
        }

        shape[0] = count;
        var view = views.Find(all.Storage, offset, shape);
        return view is not null && !view.IsDisposed ? view : views.Add(all.Storage, offset, shape, all.Slice(start, count));
    }

    // source shaped as the first `count` of `leading`, then `last`.
    private Tensor Shaped(Tensor source, IReadOnlyList<int> leading, int count, int last)
    {
        Span<int> shape = stackalloc int[count + 1];
        for (int d = 0; d < count; d++)
        {
            shape[d] = leading[d];
        }

        shape[^1] = last;
        return Get(source, shape);
    }

    private Tensor Get(Tensor source, ReadOnlySpan<int> shape)
    {
        var view = views.Find(source.Storage, source.Offset, shape);
        return view is not null && !view.IsDisposed ? view : views.Add(source.Storage, source.Offset, shape, source.Reshape(shape.ToArray()));
    }
}

/// <summary>Cached flat [N] views of index tensors of any rank, one per source buffer and length (the most recent <see cref="RecentViews{TView}.Capacity"/>).</summary>
internal sealed class FlatIndexView
{
    private readonly RecentViews<IndexTensor> views = new();

    public IndexTensor Of(IndexTensor indices)
    {
        if (indices.Rank == 1)
        {
            return indices;
        }

        int length = (int)indices.Length;
        var view = views.Find(indices.Storage, indices.Offset, [length]);
        return view is not null && !view.IsDisposed ? view : views.Add(indices.Storage, indices.Offset, [length], indices.Reshape(length));
    }
}
