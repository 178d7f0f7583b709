using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The unfold (im2col) and fold (col2im) of a 2-d convolution (<see cref="Conv2dGeometry"/> has the layout), as
/// <see cref="UnfoldKernels"/> are for one axis. The unfold is one thread per element of the unfolded matrix, so
/// consecutive threads write consecutive addresses. The fold is one thread per element of x, which sums the elements
/// of the unfolded matrix that were read from it, its taps (i, j) from last to first (the order of the rows, in which
/// the CPU fold streams them): no two threads write the same element,
/// so there are no atomics, and the sums are deterministic and the floats the CPU fold gives.
/// </summary>
internal static class Unfold2dKernels
{
    /// <summary>columns[e] for e = row·(C·kH·kW) + (c·kH + i)·kW + j, row = (n·H_out + s)·W_out + t: x[n, c, s·strideH − top + i·dilationH, t·strideW − left + j·dilationW], or 0 outside x.</summary>
    public static void Unfold(Index1D e, ArrayView<float> x, ArrayView<float> columns, Conv2dGeometry g)
    {
        var w = g.Window;
        int rowLength = g.RowLength, outWidth = g.OutputWidth, outHeight = g.OutputHeight;
        int row = e / rowLength;
        int column = e - (row * rowLength);
        int position = row / outWidth;
        int t = row - (position * outWidth);
        int n = position / outHeight;
        int s = position - (n * outHeight);
        int tap = column / w.KernelWidth;
        int j = column - (tap * w.KernelWidth);
        int c = tap / w.KernelHeight;
        int i = tap - (c * w.KernelHeight);
        int h = (s * w.StrideHeight) - w.PaddingTop + (i * w.DilationHeight);
        int v = (t * w.StrideWidth) - w.PaddingLeft + (j * w.DilationWidth);
        columns[e] = (uint)h < (uint)g.Height && (uint)v < (uint)g.Width ? x[(((((n * g.Channels) + c) * g.Height) + h) * g.Width) + v] : 0f;
    }

    /// <summary>x[e] for e = ((n·C + c)·H + h)·W + v: the sum over the taps (i, j), from last to first, of the columns' elements the unfold read from x[n, c, h, v].</summary>
    public static void Fold(Index1D e, ArrayView<float> columns, ArrayView<float> x, Conv2dGeometry g)
    {
        var w = g.Window;
        int outHeight = g.OutputHeight, outWidth = g.OutputWidth, rowLength = g.RowLength;
        int plane = e / g.Width;
        int v = e - (plane * g.Width);
        int image = plane / g.Height;
        int h = plane - (image * g.Height);
        int n = image / g.Channels;
        int c = image - (n * g.Channels);
        int first = (n * outHeight * outWidth * rowLength) + (c * w.Taps);
        float sum = 0f;
        for (int i = w.KernelHeight - 1; i >= 0; i--)
        {
            // In long: h + top and i·dilation each may pass int.MaxValue.
            long rowShift = (long)h + w.PaddingTop - ((long)i * w.DilationHeight);
            if (rowShift >= 0 && rowShift % w.StrideHeight == 0 && rowShift / w.StrideHeight < outHeight)
            {
                int s = (int)(rowShift / w.StrideHeight);
                for (int j = w.KernelWidth - 1; j >= 0; j--)
                {
                    long columnShift = (long)v + w.PaddingLeft - ((long)j * w.DilationWidth);
                    if (columnShift >= 0 && columnShift % w.StrideWidth == 0 && columnShift / w.StrideWidth < outWidth)
                    {
                        int t = (int)(columnShift / w.StrideWidth);
                        sum += columns[first + ((((s * outWidth) + t) * rowLength) + (i * w.KernelWidth) + j)];
                    }
                }
            }
        }

        x[e] = sum;
    }
}
