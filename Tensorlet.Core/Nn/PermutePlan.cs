namespace Tensorlet.Nn;

/// <summary>How a <see cref="PermutePlan"/> moves the elements.</summary>
internal enum PermuteKind
{
    /// <summary>The elements stay in order: the output is a view of the input.</summary>
    View,

    /// <summary>The last dimension stays last: one gather of whole rows.</summary>
    Rows,

    /// <summary>The last dimension moves: rows reordered (when <see cref="PermutePlan.Reorders"/>), then one batched transpose.</summary>
    Transpose,
}

/// <summary>
/// A permutation of a row-major tensor's dimensions reduced to the library's two copies, so that it needs no kernel of
/// its own: a gather of whole rows (<see cref="Ops.GatherRows"/>) and the batched transpose of [N, C, L] to [N, L, C]
/// (<see cref="Ops.Unfold1d"/> with k = 1, and its inverse <see cref="Ops.Fold1d"/>).
/// <para>
/// First the permutation is made canonical: dimensions of size 1 are dropped, and input dimensions that follow each
/// other in the output too (d, d + 1) are merged into one, so that (0, 2, 1) on [N, L, 1] is the identity and (1, 2, 0)
/// on [a, b, c] the transpose of [a, b·c]. Of the m dimensions left, the last (whose elements are contiguous) either
/// stays last, and the output is the input's rows [Rows, Width] in another order, or goes to position j &lt; m − 1:
/// then the other dimensions are first put in output order as rows [Rows, L] (the leading ones before j, of product
/// Batch, then those after, of product Channels), which is [Batch, Channels, L], and the transpose of each [Channels,
/// L] gives [Batch, L, Channels], the output. <see cref="WriteRowOrder"/> gives the row permutation in both cases.
/// </para>
/// </summary>
/// <param name="Kind">How the elements move.</param>
/// <param name="Rows">The rows that are permuted: the product of the canonical dimensions but the last.</param>
/// <param name="Width">The canonical last dimension, the length of each row (L).</param>
/// <param name="Batch">For <see cref="PermuteKind.Transpose"/>, N: the product of the output dimensions before the last input dimension.</param>
/// <param name="Channels">For <see cref="PermuteKind.Transpose"/>, C: the product of the output dimensions after it.</param>
/// <param name="Reorders">Whether rows are gathered: always for <see cref="PermuteKind.Rows"/>, and for a transpose whose other dimensions change order.</param>
internal readonly record struct PermutePlan(PermuteKind Kind, int Rows, int Width, int Batch, int Channels, bool Reorders)
{
    /// <summary>The plan for output dimension i = input dimension <paramref name="dims"/>[i] of a tensor of <paramref name="shape"/>; dims already checked to be a permutation of 0..rank − 1.</summary>
    public static PermutePlan For(IReadOnlyList<int> shape, ReadOnlySpan<int> dims)
    {
        Span<int> sizes = stackalloc int[dims.Length];
        Span<int> order = stackalloc int[dims.Length];
        int m = Canonical(shape, dims, sizes, order);
        if (m <= 1)
        {
            // One dimension left (or none, or no elements): nothing moves.
            return new PermutePlan(PermuteKind.View, 0, 0, 0, 0, false);
        }

        int width = sizes[m - 1];
        int rows = 1;
        for (int d = 0; d < m - 1; d++)
        {
            rows *= sizes[d];
        }

        int j = order[..m].IndexOf(m - 1);
        if (j == m - 1)
        {
            // Merged, an identity would be one dimension: with the last one fixed, the others change order.
            return new PermutePlan(PermuteKind.Rows, rows, width, 0, 0, true);
        }

        int batch = 1;
        for (int i = 0; i < j; i++)
        {
            batch *= sizes[order[i]];
        }

        Span<int> leading = stackalloc int[m - 1];
        LeadingOrder(order[..m], leading);
        bool reorders = false;
        for (int i = 0; i < leading.Length; i++)
        {
            reorders |= leading[i] != i;
        }

        return new PermutePlan(PermuteKind.Transpose, rows, width, batch, rows / batch, reorders);
    }

    /// <summary>
    /// Writes the row permutation of a plan that <see cref="Reorders"/>: row k of the reordered rows [Rows, Width] is
    /// row <paramref name="rowOrder"/>[k] of the input read as [Rows, Width].
    /// </summary>
    public static void WriteRowOrder(IReadOnlyList<int> shape, ReadOnlySpan<int> dims, Span<int> rowOrder)
    {
        Span<int> sizes = stackalloc int[dims.Length];
        Span<int> order = stackalloc int[dims.Length];
        int m = Canonical(shape, dims, sizes, order);
        Span<int> leading = stackalloc int[m - 1];
        LeadingOrder(order[..m], leading);

        // The input's row stride of each leading dimension, then an odometer over the leading dimensions in their new order.
        Span<int> strides = stackalloc int[m - 1];
        int stride = 1;
        for (int d = m - 2; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= sizes[d];
        }

        Span<int> coordinates = stackalloc int[m - 1];
        coordinates.Clear();
        int source = 0;
        for (int k = 0; k < rowOrder.Length; k++)
        {
            rowOrder[k] = source;
            for (int i = leading.Length - 1; i >= 0; i--)
            {
                int d = leading[i];
                source += strides[d];
                if (++coordinates[i] < sizes[d])
                {
                    break;
                }

                source -= coordinates[i] * strides[d];
                coordinates[i] = 0;
            }
        }
    }

    // The canonical form: sizes[..m] the merged dimensions' sizes in input order, order[..m] the merged permutation
    // (output dimension i is merged input dimension order[i]); returns m.
    private static int Canonical(IReadOnlyList<int> shape, ReadOnlySpan<int> dims, Span<int> sizes, Span<int> order)
    {
        int rank = dims.Length;
        if (ShapeHasZero(shape))
        {
            sizes[0] = 0;
            order[0] = 0;
            return 1;
        }

        // Without the dimensions of size 1: kept[i] is output dimension i's input dimension, renumbered.
        Span<int> renumbered = stackalloc int[rank];
        int keptCount = 0;
        for (int d = 0; d < rank; d++)
        {
            renumbered[d] = shape[d] == 1 ? -1 : keptCount++;
        }

        Span<int> kept = stackalloc int[keptCount];
        Span<int> keptSizes = stackalloc int[keptCount];
        for (int i = 0, k = 0; i < rank; i++)
        {
            if (renumbered[dims[i]] >= 0)
            {
                keptSizes[renumbered[dims[i]]] = shape[dims[i]];
                kept[k++] = renumbered[dims[i]];
            }
        }

        // Runs d, d + 1, ... in output order are one dimension; first[g] is run g's first input dimension, in output order.
        Span<int> first = stackalloc int[keptCount];
        Span<int> runSize = stackalloc int[keptCount];
        int m = 0;
        for (int i = 0; i < keptCount; i++)
        {
            if (i > 0 && kept[i] == kept[i - 1] + 1)
            {
                runSize[m - 1] *= keptSizes[kept[i]];
                continue;
            }

            first[m] = kept[i];
            runSize[m] = keptSizes[kept[i]];
            m++;
        }

        // A run's merged input dimension is the number of runs that start before it in the input.
        for (int g = 0; g < m; g++)
        {
            int position = 0;
            for (int h = 0; h < m; h++)
            {
                position += first[h] < first[g] ? 1 : 0;
            }

            order[g] = position;
            sizes[position] = runSize[g];
        }

        return m;
    }

    // The canonical dimensions but the last, in the order they take in the output.
    private static void LeadingOrder(ReadOnlySpan<int> order, Span<int> leading)
    {
        int last = order.Length - 1;
        for (int i = 0, k = 0; i < order.Length; i++)
        {
            if (order[i] != last)
            {
                leading[k++] = order[i];
            }
        }
    }

    private static bool ShapeHasZero(IReadOnlyList<int> shape)
    {
        for (int d = 0; d < shape.Count; d++)
        {
            if (shape[d] == 0)
            {
                return true;
            }
        }

        return false;
    }
}
