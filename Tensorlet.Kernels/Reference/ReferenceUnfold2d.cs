namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 unfold (im2col) and fold (col2im) of a 2-d convolution that the kernels are checked against, written
/// from their definitions (<see cref="Conv2dGeometry"/>) over one walk of every tap of every output position: the
/// unfold reads each tap from x, the fold scatters each element of the unfolded matrix back onto the position of x it
/// was read from and adds.
/// </summary>
internal static class ReferenceUnfold2d
{
    /// <summary>columns [N·H_out·W_out, C·kH·kW] = unfold(x [N, C, H, W]), 0 at padded positions.</summary>
    public static void Unfold(Conv2dGeometry g, double[] x, double[] columns) => ReferenceUnfold.Unfold(tap => ForEachTap(g, tap), x, columns);

    /// <summary>x [N, C, H, W] = fold(columns [N·H_out·W_out, C·kH·kW]): x is zeroed, then every element of columns inside x is added where the unfold read it.</summary>
    public static void Fold(Conv2dGeometry g, double[] columns, double[] x) => ReferenceUnfold.Fold(tap => ForEachTap(g, tap), columns, x);

    // Calls tap(e, p) for every element e of the unfolded matrix, row (n·H_out + s)·W_out + t, column (c·kH + i)·kW + j,
    // with p the index of x[n, c, s·strideH − top + i·dilationH, t·strideW − left + j·dilationW], or −1 where that
    // position is padding.
    private static void ForEachTap(Conv2dGeometry g, Action<int, int> tap)
    {
        var w = g.Window;
        int e = 0;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int s = 0; s < g.OutputHeight; s++)
            {
                for (int t = 0; t < g.OutputWidth; t++)
                {
                    for (int c = 0; c < g.Channels; c++)
                    {
                        for (int i = 0; i < w.KernelHeight; i++)
                        {
                            for (int j = 0; j < w.KernelWidth; j++)
                            {
                                int h = (s * w.StrideHeight) - w.PaddingTop + (i * w.DilationHeight);
                                int v = (t * w.StrideWidth) - w.PaddingLeft + (j * w.DilationWidth);
                                bool inside = h >= 0 && h < g.Height && v >= 0 && v < g.Width;
                                tap(e++, inside ? (((((n * g.Channels) + c) * g.Height) + h) * g.Width) + v : -1);
                            }
                        }
                    }
                }
            }
        }
    }
}
