namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 max and average 1-d poolings and their backwards that the kernels are checked against, written from
/// PyTorch's definitions over x [Rows, L] and y [Rows, L_out] (<see cref="Pool1dGeometry"/>'s fields): a sliding window's
/// taps are t·stride − padding + j·dilation for j &lt; k, an adaptive window the positions [⌊t·L/L_out⌋,
/// ⌈(t + 1)·L/L_out⌉), and only the taps inside x are read. An average with count_include_pad divides by the taps
/// before L + padding (a ceil-mode window that runs past the padding counts only the padding), as PyTorch's CPU kernel
/// does. The backwards scatter each output's gradient onto the positions it read, where the kernels gather.
/// </summary>
internal static class ReferencePool
{
    /// <summary>y = each window's maximum, argmax its position in the row: the first maximum, or the last NaN (−∞ and −1 for a window with no tap inside x).</summary>
    public static void MaxForward(Pool1dGeometry g, double[] x, double[] y, int[] argmax)
    {
        for (int r = 0; r < g.Rows; r++)
        {
            for (int t = 0; t < g.OutputLength; t++)
            {
                int best = -1;
                double max = double.NegativeInfinity;
                foreach (int p in Window(g, t))
                {
                    double value = x[(r * g.Length) + p];
                    if (best < 0 || value > max || double.IsNaN(value))
                    {
                        (max, best) = (value, p);
                    }
                }

                y[(r * g.OutputLength) + t] = max;
                argmax[(r * g.OutputLength) + t] = best;
            }
        }
    }

    /// <summary>dx = 0, then each output's dy added at its argmax.</summary>
    public static void MaxBackward(Pool1dGeometry g, double[] dy, int[] argmax, double[] dx)
    {
        Array.Clear(dx);
        for (int r = 0; r < g.Rows; r++)
        {
            for (int t = 0; t < g.OutputLength; t++)
            {
                int p = argmax[(r * g.OutputLength) + t];
                if (p >= 0)
                {
                    dx[(r * g.Length) + p] += dy[(r * g.OutputLength) + t];
                }
            }
        }
    }

    /// <summary>y = the sum of each window's taps inside x over its divisor: its taps before L + padding with count_include_pad (an adaptive window's size), else the taps inside x.</summary>
    public static void AvgForward(Pool1dGeometry g, double[] x, double[] y)
    {
        for (int r = 0; r < g.Rows; r++)
        {
            for (int t = 0; t < g.OutputLength; t++)
            {
                y[(r * g.OutputLength) + t] = Window(g, t).Sum(p => x[(r * g.Length) + p]) / Divisor(g, t);
            }
        }
    }

    /// <summary>dx = 0, then each output's dy over its divisor added at every tap it read.</summary>
    public static void AvgBackward(Pool1dGeometry g, double[] dy, double[] dx)
    {
        Array.Clear(dx);
        for (int r = 0; r < g.Rows; r++)
        {
            for (int t = 0; t < g.OutputLength; t++)
            {
                foreach (int p in Window(g, t))
                {
                    dx[(r * g.Length) + p] += dy[(r * g.OutputLength) + t] / Divisor(g, t);
                }
            }
        }
    }

    private static int Divisor(Pool1dGeometry g, int t) => g.Adaptive != 0 || g.CountIncludePad == 0
        ? Window(g, t).Count()
        : Taps(g, t).Count(p => p < g.Length + g.Padding);

    // The positions of output t's taps inside x, in order.
    private static IEnumerable<int> Window(Pool1dGeometry g, int t)
    {
        if (g.Adaptive != 0)
        {
            int start = (int)Math.Floor((double)t * g.Length / g.OutputLength);
            int end = (int)Math.Ceiling((double)(t + 1) * g.Length / g.OutputLength);
            return Enumerable.Range(start, end - start);
        }

        return Taps(g, t).Where(p => p >= 0 && p < g.Length);
    }

    // The positions of a sliding window's k taps, padding and positions past it included.
    private static IEnumerable<int> Taps(Pool1dGeometry g, int t) => Enumerable.Range(0, g.KernelSize).Select(j => (t * g.Stride) - g.Padding + (j * g.Dilation));
}
