namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 max and average poolings, 1-d and 2-d, and their backwards that the kernels are checked against, written
/// from PyTorch's definitions over x [Planes, H·W] and y [Planes, H_out·W_out] (<see cref="Pool2dGeometry"/>'s fields; a
/// 1-d pooling's H is 1): along each axis a sliding window's taps are t·stride − padding + j·dilation for j &lt; k, an
/// adaptive window the positions [⌊t·L/L_out⌋, ⌈(t + 1)·L/L_out⌉), and a 2-d window reads the taps inside x of the two
/// axes' windows crossed, row by row. An average with count_include_pad divides by the taps before L + padding along
/// each axis (a ceil-mode window that runs past the padding counts only the padding), multiplied, as PyTorch's CPU kernel
/// does. The backwards scatter each output's gradient onto the positions it read, where the kernels gather.
/// </summary>
internal static class ReferencePool
{
    /// <summary>y = each window's maximum, argmax its position h·W + w in the plane: the first maximum, or the last NaN (−∞ and −1 for a window with no tap inside x).</summary>
    public static void MaxForward(Pool2dGeometry g, double[] x, double[] y, int[] argmax)
    {
        for (int r = 0; r < g.Planes; r++)
        {
            for (int t = 0; t < g.OutputSize; t++)
            {
                int best = -1;
                double max = double.NegativeInfinity;
                foreach (int p in Window(g, t))
                {
                    double value = x[(r * g.InputSize) + p];
                    if (best < 0 || value > max || double.IsNaN(value))
                    {
                        (max, best) = (value, p);
                    }
                }

                y[(r * g.OutputSize) + t] = max;
                argmax[(r * g.OutputSize) + t] = best;
            }
        }
    }

    /// <summary>dx = 0, then each output's dy added at its argmax.</summary>
    public static void MaxBackward(Pool2dGeometry g, double[] dy, int[] argmax, double[] dx)
    {
        Array.Clear(dx);
        for (int r = 0; r < g.Planes; r++)
        {
            for (int t = 0; t < g.OutputSize; t++)
            {
                int p = argmax[(r * g.OutputSize) + t];
                if (p >= 0)
                {
                    dx[(r * g.InputSize) + p] += dy[(r * g.OutputSize) + t];
                }
            }
        }
    }

    /// <summary>y = the sum of each window's taps inside x over its divisor: per axis its taps before L + padding with count_include_pad (an adaptive window's size), else the taps inside x, multiplied.</summary>
    public static void AvgForward(Pool2dGeometry g, double[] x, double[] y)
    {
        for (int r = 0; r < g.Planes; r++)
        {
            for (int t = 0; t < g.OutputSize; t++)
            {
                y[(r * g.OutputSize) + t] = Window(g, t).Sum(p => x[(r * g.InputSize) + p]) / Divisor(g, t);
            }
        }
    }

    /// <summary>dx = 0, then each output's dy over its divisor added at every tap it read.</summary>
    public static void AvgBackward(Pool2dGeometry g, double[] dy, double[] dx)
    {
        Array.Clear(dx);
        for (int r = 0; r < g.Planes; r++)
        {
            for (int t = 0; t < g.OutputSize; t++)
            {
                foreach (int p in Window(g, t))
                {
                    dx[(r * g.InputSize) + p] += dy[(r * g.OutputSize) + t] / Divisor(g, t);
                }
            }
        }
    }

    private static int Divisor(Pool2dGeometry g, int t)
        => Divisor(g.Height, t / g.Width.OutputLength) * Divisor(g.Width, t % g.Width.OutputLength);

    private static int Divisor(Pool1dGeometry g, int t) => g.Adaptive != 0 || g.CountIncludePad == 0
        ? Window(g, t).Count()
        : Taps(g, t).Count(p => p < g.Length + g.Padding);

    // The positions h·W + w of output t's taps inside x, row by row.
    private static IEnumerable<int> Window(Pool2dGeometry g, int t)
        => from h in Window(g.Height, t / g.Width.OutputLength)
           from w in Window(g.Width, t % g.Width.OutputLength)
           select (h * g.Width.Length) + w;

    // The positions of output t's taps inside x along one axis, in order.
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

    // The positions of a sliding window's k taps along one axis, padding and positions past it included.
    private static IEnumerable<int> Taps(Pool1dGeometry g, int t) => Enumerable.Range(0, g.KernelSize).Select(j => (t * g.Stride) - g.Padding + (j * g.Dilation));
}
