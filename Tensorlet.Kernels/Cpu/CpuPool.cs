namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The max and average 1-d poolings and their backwards in plain C# (<see cref="Pool1dGeometry"/> has the windows), over
/// blocks of the rows [r, :] of x, so no two threads write the same element. Each output takes its taps in order and each
/// input-gradient element sums its outputs in order of t, as the ILGPU kernels do, so both give the same floats. The
/// loops are scalar: a window is a few strided taps (a max also tracks its position), and the gather of the backward
/// runs over a handful of outputs per element, so there is no contiguous run for vectors to take.
/// </summary>
internal static unsafe class CpuPool
{
    /// <summary>
    /// y [Rows, L_out] = the maximum of each window of x [Rows, L] and argmax [Rows·L_out] its position in the row: the
    /// first maximum, or the last NaN where the window holds one (NaN propagates, as in PyTorch); −∞ and −1 for a window
    /// with no tap inside x.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, Pool1dGeometry geometry, int threads)
    {
        CheckLengths(x.Length, y.Length, geometry);
        fixed (float* xp = x, yp = y)
        fixed (int* ip = argmax)
        {
            CpuParallel.For(geometry.Rows, RowsPerChunk(geometry), threads, new MaxRows(xp, yp, ip, geometry));
        }
    }

    /// <summary>dx [Rows, L]: each element the sum, over the outputs whose argmax is its position, of their dy [Rows, L_out] (0 for none).</summary>
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, Pool1dGeometry geometry, int threads)
    {
        CheckLengths(dx.Length, dy.Length, geometry);
        fixed (float* dyp = dy, dxp = dx)
        fixed (int* ip = argmax)
        {
            CpuParallel.For(geometry.Rows, RowsPerChunk(geometry), threads, new GradientRows(dyp, ip, dxp, geometry));
        }
    }

    /// <summary>y [Rows, L_out] = the sum of each window's taps inside x [Rows, L], divided by <see cref="Pool1dGeometry.Divisor"/>.</summary>
    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, Pool1dGeometry geometry, int threads)
    {
        CheckLengths(x.Length, y.Length, geometry);
        fixed (float* xp = x, yp = y)
        {
            CpuParallel.For(geometry.Rows, RowsPerChunk(geometry), threads, new AvgRows(xp, yp, geometry));
        }
    }

    /// <summary>dx [Rows, L]: each element the sum, over the windows it is a tap of, of their dy divided by their divisor.</summary>
    public static void AvgBackward(ReadOnlySpan<float> dy, Span<float> dx, Pool1dGeometry geometry, int threads)
    {
        CheckLengths(dx.Length, dy.Length, geometry);
        fixed (float* dyp = dy, dxp = dx)
        {
            CpuParallel.For(geometry.Rows, RowsPerChunk(geometry), threads, new GradientRows(dyp, null, dxp, geometry));
        }
    }

    private static long RowsPerChunk(Pool1dGeometry g) => Math.Max(1, CpuParallel.MinElementsPerChunk / ((long)g.Length + g.OutputLength));

    private static void CheckLengths(int xLength, int yLength, Pool1dGeometry g)
    {
        if (xLength != (long)g.Rows * g.Length || yLength != (long)g.Rows * g.OutputLength)
        {
            throw new ArgumentException($"Pool: x has {xLength} elements and y {yLength}; {g} needs {(long)g.Rows * g.Length} and {(long)g.Rows * g.OutputLength}.");
        }
    }

    private readonly struct MaxRows(float* x, float* y, int* argmax, Pool1dGeometry g) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long row = start; row < start + count; row++)
            {
                float* source = x + (row * g.Length);
                long at = row * g.OutputLength;
                for (int t = 0; t < g.OutputLength; t++)
                {
                    int first = g.First(t), taps = g.Taps(t), best = -1;
                    float max = float.NegativeInfinity;
                    for (int j = 0; j < taps; j++)
                    {
                        int position = first + (j * g.Dilation);
                        if ((uint)position < (uint)g.Length)
                        {
                            float value = source[position];
                            if (best < 0 || value > max || float.IsNaN(value))
                            {
                                max = value;
                                best = position;
                            }
                        }
                    }

                    y[at + t] = max;
                    argmax[at + t] = best;
                }
            }
        }
    }

    private readonly struct AvgRows(float* x, float* y, Pool1dGeometry g) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long row = start; row < start + count; row++)
            {
                float* source = x + (row * g.Length);
                long at = row * g.OutputLength;
                for (int t = 0; t < g.OutputLength; t++)
                {
                    int first = g.First(t), taps = g.Taps(t);
                    float sum = 0f;
                    for (int j = 0; j < taps; j++)
                    {
                        int position = first + (j * g.Dilation);
                        if ((uint)position < (uint)g.Length)
                        {
                            sum += source[position];
                        }
                    }

                    y[at + t] = sum / g.Divisor(t);
                }
            }
        }
    }

    // dx of a max pooling (argmax given) or of an average (argmax null): each element sums, in order of t, the
    // outputs whose window may hold it that route their gradient to it.
    private readonly struct GradientRows(float* dy, int* argmax, float* dx, Pool1dGeometry g) : IParallelRange
    {
        public void Run(long start, long count)
        {
            for (long row = start; row < start + count; row++)
            {
                long at = row * g.OutputLength;
                float* target = dx + (row * g.Length);
                for (int l = 0; l < g.Length; l++)
                {
                    float sum = 0f;
                    for (int t = g.FirstOutputAt(l), last = g.LastOutputAt(l); t <= last; t++)
                    {
                        if (argmax != null ? argmax[at + t] == l : g.Holds(t, l))
                        {
                            sum += argmax != null ? dy[at + t] : dy[at + t] / g.Divisor(t);
                        }
                    }

                    target[l] = sum;
                }
            }
        }
    }
}
