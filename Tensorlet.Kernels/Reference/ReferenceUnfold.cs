namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 unfold (im2col) and fold (col2im) of a 1-d convolution that the kernels are checked against, written
/// from their definitions (<see cref="Conv1dGeometry"/>) over one walk of every tap of every output position: the
/// unfold reads each tap from x, the fold scatters each element of the unfolded matrix back onto the position of x it
/// was read from and adds.
/// </summary>
internal static class ReferenceUnfold
{
    /// <summary>columns [N·L_out, C·k] = unfold(x [N, C, L]), 0 at padded positions.</summary>
    public static void Unfold(Conv1dGeometry g, double[] x, double[] columns) => Unfold(tap => ForEachTap(g, tap), x, columns);

    /// <summary>x [N, C, L] = fold(columns [N·L_out, C·k]): x is zeroed, then every element of columns inside x is added where the unfold read it.</summary>
    public static void Fold(Conv1dGeometry g, double[] columns, double[] x) => Fold(tap => ForEachTap(g, tap), columns, x);

    /// <summary>columns[i] = x[p] for every tap (i, p) that <paramref name="forEachTap"/> walks, 0 where p is −1 (padding): the unfold of any number of spatial axes.</summary>
    public static void Unfold(Action<Action<int, int>> forEachTap, double[] x, double[] columns)
        => forEachTap((column, position) => columns[column] = position < 0 ? 0 : x[position]);

    /// <summary>x is zeroed, then x[p] += columns[i] for every tap (i, p) that <paramref name="forEachTap"/> walks with p ≥ 0: the fold of any number of spatial axes.</summary>
    public static void Fold(Action<Action<int, int>> forEachTap, double[] columns, double[] x)
    {
        Array.Clear(x);
        forEachTap((column, position) =>
        {
            if (position >= 0)
            {
                x[position] += columns[column];
            }
        });
    }

    // Calls tap(i, p) for every element i = (n·L_out + t)·C·k + c·k + j of the unfolded matrix, with p the index of
    // x[n, c, t·stride − left + j·dilation], or −1 where that position is padding.
    private static void ForEachTap(Conv1dGeometry g, Action<int, int> tap)
    {
        int outLength = g.OutputLength;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int t = 0; t < outLength; t++)
            {
                for (int c = 0; c < g.Channels; c++)
                {
                    for (int j = 0; j < g.KernelSize; j++)
                    {
                        int position = (t * g.Stride) - g.PaddingLeft + (j * g.Dilation);
                        bool inside = position >= 0 && position < g.Length;
                        tap((((n * outLength) + t) * g.Width) + (c * g.KernelSize) + j, inside ? (((n * g.Channels) + c) * g.Length) + position : -1);
                    }
                }
            }
        }
    }
}
