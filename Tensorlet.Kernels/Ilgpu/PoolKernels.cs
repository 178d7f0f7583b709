using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The max and average 1-d poolings and their backwards (<see cref="Pool1dGeometry"/> has the windows). A forward is one
/// thread per output element, which takes its window's taps in order; a backward is one thread per element of x, which
/// sums the outputs whose window holds it in order of t: no two threads write the same element, so there are no
/// atomics, and the floats are those the CPU kernels give.
/// </summary>
internal static class PoolKernels
{
    /// <summary>y[e] and argmax[e] for e = r·L_out + t: the first maximum of the window and its position (the last NaN where there is one; −∞ and −1 for no tap inside x).</summary>
    public static void MaxForward(Index1D e, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax, Pool1dGeometry g)
    {
        int row = e / g.OutputLength;
        int t = e - (row * g.OutputLength);
        int first = g.First(t), taps = g.Taps(t), best = -1;
        long offset = (long)row * g.Length;
        float max = float.NegativeInfinity;
        for (int j = 0; j < taps; j++)
        {
            int position = first + (j * g.Dilation);
            if ((uint)position < (uint)g.Length)
            {
                float value = x[offset + position];
                if (best < 0 || value > max || float.IsNaN(value))
                {
                    max = value;
                    best = position;
                }
            }
        }

        y[e] = max;
        argmax[e] = best;
    }

    /// <summary>dx[e] for e = r·L + l: the sum, in order of t, of dy[r, t] over the outputs t whose argmax is l.</summary>
    public static void MaxBackward(Index1D e, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx, Pool1dGeometry g)
    {
        int row = e / g.Length;
        int l = e - (row * g.Length);
        long at = (long)row * g.OutputLength;
        float sum = 0f;
        for (int t = g.FirstOutputAt(l), last = g.LastOutputAt(l); t <= last; t++)
        {
            if (argmax[at + t] == l)
            {
                sum += dy[at + t];
            }
        }

        dx[e] = sum;
    }

    /// <summary>y[e] for e = r·L_out + t: the sum of the window's taps inside x, in order, divided by its divisor.</summary>
    public static void AvgForward(Index1D e, ArrayView<float> x, ArrayView<float> y, Pool1dGeometry g)
    {
        int row = e / g.OutputLength;
        int t = e - (row * g.OutputLength);
        int first = g.First(t), taps = g.Taps(t);
        long offset = (long)row * g.Length;
        float sum = 0f;
        for (int j = 0; j < taps; j++)
        {
            int position = first + (j * g.Dilation);
            if ((uint)position < (uint)g.Length)
            {
                sum += x[offset + position];
            }
        }

        y[e] = sum / g.Divisor(t);
    }

    /// <summary>dx[e] for e = r·L + l: the sum, in order of t, of dy[r, t] divided by its divisor over the windows that hold l.</summary>
    public static void AvgBackward(Index1D e, ArrayView<float> dy, ArrayView<float> dx, Pool1dGeometry g)
    {
        int row = e / g.Length;
        int l = e - (row * g.Length);
        long at = (long)row * g.OutputLength;
        float sum = 0f;
        for (int t = g.FirstOutputAt(l), last = g.LastOutputAt(l); t <= last; t++)
        {
            if (g.Holds(t, l))
            {
                sum += dy[at + t] / g.Divisor(t);
            }
        }

        dx[e] = sum;
    }
}
