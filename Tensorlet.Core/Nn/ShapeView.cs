namespace Tensorlet.Nn;

/// <summary>
/// A cached reshaped view of a tensor, remade only when the source buffer or the shape changes, so a module that
/// reads an input of any rank as a matrix, or gives its output the input's leading dimensions, allocates nothing
/// once warm.
/// </summary>
internal sealed class ShapeView
{
    private Tensor? view;
    private int[] shape = [];

    /// <summary>The number of rows of <paramref name="x"/> read as a matrix by its last dimension.</summary>
    public static int RowsByLast(DeviceTensor<float> x) => x.Shape[^1] == 0 ? 0 : (int)(x.Length / x.Shape[^1]);

    /// <summary><paramref name="source"/> as [rows, columns].</summary>
    public Tensor Matrix(Tensor source, int rows, int columns)
    {
        if (Matches(source) && shape.Length == 2 && shape[0] == rows && shape[1] == columns)
        {
            return view!;
        }

        shape = [rows, columns];
        view = source.Reshape(rows, columns);
        return view;
    }

    /// <summary><paramref name="source"/> shaped as <paramref name="like"/>'s dimensions but the last, then <paramref name="last"/>.</summary>
    public Tensor Like<T>(Tensor source, DeviceTensor<T> like, int last)
        where T : unmanaged
        => Shaped(source, like.Shape, like.Rank - 1, last);

    /// <summary><paramref name="source"/> shaped as all of <paramref name="like"/>'s dimensions, then <paramref name="last"/> (for index inputs).</summary>
    public Tensor Append(Tensor source, IndexTensor like, int last) => Shaped(source, like.Shape, like.Rank, last);

    /// <summary><paramref name="source"/> shaped as <paramref name="like"/> with dimension <paramref name="dim"/> of size <paramref name="size"/> (a narrowed copy's shape).</summary>
    public Tensor Resized(Tensor source, Tensor like, int dim, int size)
    {
        if (Matches(source) && shape.Length == like.Rank && shape[dim] == size && LeadingEqual(like.Shape, dim) && TrailingEqual(like.Shape, dim + 1))
        {
            return view!;
        }

        shape = [.. like.Shape];
        shape[dim] = size;
        view = source.Reshape(shape);
        return view;
    }

    // source shaped as the first `count` of `leading`, then `last`; the cached view when it is that already.
    private Tensor Shaped(Tensor source, IReadOnlyList<int> leading, int count, int last)
    {
        int rank = count + 1;
        if (Matches(source) && shape.Length == rank && shape[^1] == last && LeadingEqual(leading, count))
        {
            return view!;
        }

        shape = new int[rank];
        for (int d = 0; d < count; d++)
        {
            shape[d] = leading[d];
        }

        shape[^1] = last;
        view = source.Reshape(shape);
        return view;
    }

    private bool Matches(Tensor source) => view is not null && !view.IsDisposed && ReferenceEquals(view.Storage, source.Storage) && view.Offset == source.Offset;

    // Dimensions from `first` on are those of `dims`, whose rank is the cached shape's.
    private bool TrailingEqual(IReadOnlyList<int> dims, int first)
    {
        for (int d = first; d < dims.Count; d++)
        {
            if (shape[d] != dims[d])
            {
                return false;
            }
        }

        return true;
    }

    private bool LeadingEqual(IReadOnlyList<int> leading, int count)
    {
        for (int d = 0; d < count; d++)
        {
            if (shape[d] != leading[d])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A cached flat [N] view of an index tensor of any rank, remade only when the source changes.</summary>
internal sealed class FlatIndexView
{
    private IndexTensor? source;
    private IndexTensor? view;

    public IndexTensor Of(IndexTensor indices)
    {
        if (indices.Rank == 1)
        {
            return indices;
        }

        if (!ReferenceEquals(indices, source) || view is null || view.IsDisposed)
        {
            source = indices;
            view = indices.Reshape((int)indices.Length);
        }

        return view;
    }
}
