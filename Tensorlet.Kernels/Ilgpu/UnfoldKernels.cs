using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The unfold (im2col) and fold (col2im) of a 1-d convolution (<see cref="Conv1dGeometry"/> has the layout). The unfold
/// is one thread per element of the unfolded matrix, so consecutive threads write consecutive addresses. The fold is
/// one thread per element of x, which sums the elements of the unfolded matrix that were read from it, its taps in order
/// of j: no two threads write the same element, so there are no atomics, and the sums are deterministic and the floats
/// the CPU fold gives.
/// </summary>
internal static class UnfoldKernels
{
    /// <summary>columns[e] for e = row·(C·k) + c·k + j, row = n·L_out + t: x[n, c, t·stride − left + j·dilation], or 0 outside x.</summary>
    public static void Unfold(Index1D e, ArrayView<float> x, ArrayView<float> columns, Conv1dGeometry g)
    {
        int width = g.Width;
        int outLength = g.OutputLength;
        int row = e / width;
        int column = e - (row * width);
        int n = row / outLength;
        int t = row - (n * outLength);
        int c = column / g.KernelSize;
        int j = column - (c * g.KernelSize);
        int position = (t * g.Stride) - g.PaddingLeft + (j * g.Dilation);
        columns[e] = (uint)position < (uint)g.Length ? x[(((n * g.Channels) + c) * g.Length) + position] : 0f;
    }

    /// <summary>x[e] for e = (n·C + c)·L + l: the sum over the taps j, in order, of columns[n·L_out + t, c·k + j] where t·stride − left + j·dilation = l.</summary>
    public static void Fold(Index1D e, ArrayView<float> columns, ArrayView<float> x, Conv1dGeometry g)
    {
        int outLength = g.OutputLength;
        int row = e / g.Length;
        int l = e - (row * g.Length);
        int n = row / g.Channels;
        int c = row - (n * g.Channels);
        int first = (n * outLength * g.Width) + (c * g.KernelSize);
        float sum = 0f;
        for (int j = 0; j < g.KernelSize; j++)
        {
            // In long: l + left and j·dilation each may pass int.MaxValue.
            long shifted = (long)l + g.PaddingLeft - ((long)j * g.Dilation);
            if (shifted >= 0 && shifted % g.Stride == 0 && shifted / g.Stride < outLength)
            {
                sum += columns[first + ((int)(shifted / g.Stride) * g.Width) + j];
            }
        }

        x[e] = sum;
    }
}
