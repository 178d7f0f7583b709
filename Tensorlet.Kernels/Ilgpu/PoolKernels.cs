using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The max and average poolings, 1-d and 2-d, and their backwards (<see cref="Pool2dGeometry"/> has the windows; a 1-d
/// pooling is a 2-d one of height 1). A forward is one thread per output element, which takes its window's taps in
/// order, row by row; a backward is one thread per element of x, which sums the outputs whose window holds it in order
/// of (oh, ow): no two threads write the same element, so there are no atomics, and the floats are those the CPU
/// kernels give.
/// </summary>
internal static class PoolKernels
{
    /// <summary>y[e] and argmax[e] for e = p·H_out·W_out + oh·W_out + ow: the first maximum of the window and its position h·W + w (the last NaN where there is one; −∞ and −1 for no tap inside x).</summary>
    public static void MaxForward(Index1D e, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax, Pool2dGeometry g)
    {
        var (alongH, alongW) = (g.Height, g.Width);
        int plane = e / g.OutputSize;
        int t = e - (plane * g.OutputSize);
        int oh = t / alongW.OutputLength, ow = t - (oh * alongW.OutputLength);
        int top = alongH.First(oh), tall = alongH.Taps(oh), left = alongW.First(ow), wide = alongW.Taps(ow), best = -1;
        long offset = (long)plane * g.InputSize;
        float max = float.NegativeInfinity;
        for (int i = 0; i < tall; i++)
        {
            int h = top + (i * alongH.Dilation);
            for (int j = 0; j < wide; j++)
            {
                int w = left + (j * alongW.Dilation);
                if ((uint)h < (uint)alongH.Length && (uint)w < (uint)alongW.Length)
                {
                    int position = (h * alongW.Length) + w;
                    float value = x[offset + position];
                    if (best < 0 || value > max || float.IsNaN(value))
                    {
                        max = value;
                        best = position;
                    }
                }
            }
        }

        y[e] = max;
        argmax[e] = best;
    }

    /// <summary>dx[e] for e = p·H·W + h·W + w: the sum, in order of (oh, ow), of dy[p, oh, ow] over the outputs whose argmax is h·W + w.</summary>
    public static void MaxBackward(Index1D e, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx, Pool2dGeometry g)
    {
        var (alongH, alongW) = (g.Height, g.Width);
        int plane = e / g.InputSize;
        int l = e - (plane * g.InputSize);
        int h = l / alongW.Length, w = l - (h * alongW.Length);
        long at = (long)plane * g.OutputSize;
        float sum = 0f;
        for (int oh = alongH.FirstOutputAt(h), lastRow = alongH.LastOutputAt(h); oh <= lastRow; oh++)
        {
            for (int ow = alongW.FirstOutputAt(w), last = alongW.LastOutputAt(w); ow <= last; ow++)
            {
                long t = at + ((long)oh * alongW.OutputLength) + ow;
                if (argmax[t] == l)
                {
                    sum += dy[t];
                }
            }
        }

        dx[e] = sum;
    }

    /// <summary>y[e] for e = p·H_out·W_out + oh·W_out + ow: the sum of the window's taps inside x, row by row, divided by its divisor.</summary>
    public static void AvgForward(Index1D e, ArrayView<float> x, ArrayView<float> y, Pool2dGeometry g)
    {
        var (alongH, alongW) = (g.Height, g.Width);
        int plane = e / g.OutputSize;
        int t = e - (plane * g.OutputSize);
        int oh = t / alongW.OutputLength, ow = t - (oh * alongW.OutputLength);
        int top = alongH.First(oh), tall = alongH.Taps(oh), left = alongW.First(ow), wide = alongW.Taps(ow);
        long offset = (long)plane * g.InputSize;
        float sum = 0f;
        for (int i = 0; i < tall; i++)
        {
            int h = top + (i * alongH.Dilation);
            for (int j = 0; j < wide; j++)
            {
                int w = left + (j * alongW.Dilation);
                if ((uint)h < (uint)alongH.Length && (uint)w < (uint)alongW.Length)
                {
                    sum += x[offset + (h * alongW.Length) + w];
                }
            }
        }

        y[e] = sum / g.Divisor(oh, ow);
    }

    /// <summary>dx[e] for e = p·H·W + h·W + w: the sum, in order of (oh, ow), of dy[p, oh, ow] divided by its divisor over the windows that hold (h, w).</summary>
    public static void AvgBackward(Index1D e, ArrayView<float> dy, ArrayView<float> dx, Pool2dGeometry g)
    {
        var (alongH, alongW) = (g.Height, g.Width);
        int plane = e / g.InputSize;
        int l = e - (plane * g.InputSize);
        int h = l / alongW.Length, w = l - (h * alongW.Length);
        long at = (long)plane * g.OutputSize;
        float sum = 0f;
        for (int oh = alongH.FirstOutputAt(h), lastRow = alongH.LastOutputAt(h); oh <= lastRow; oh++)
        {
            for (int ow = alongW.FirstOutputAt(w), last = alongW.LastOutputAt(w); ow <= last; ow++)
            {
                if (alongH.Holds(oh, h) && alongW.Holds(ow, w))
                {
                    sum += dy[at + ((long)oh * alongW.OutputLength) + ow] / g.Divisor(oh, ow);
                }
            }
        }

        dx[e] = sum;
    }
}
