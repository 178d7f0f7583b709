using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The max and average 1-d poolings and their backwards in SIMD C# (<see cref="Pool1dGeometry"/> has the windows), over
/// blocks of the rows [r, :] of x, so no two threads write the same element. Each output takes its taps in order and each
/// input-gradient element sums its outputs in order of t, as the ILGPU kernels do, so both give the same floats.
/// <para>
/// A register's lanes are rows, not positions: every row has the same windows, so each branch of the loops (a tap in
/// the padding, a window cut short by ceil mode, an adaptive window's size, an output whose window may hold a position)
/// is taken by all lanes at once, and each lane runs exactly the operations of a single row, in the same order. The
/// floats are therefore those of one row at a time, at every width: the same maximum and argmax (the first maximum, the
/// last NaN), the same sums. Lanes over positions would not cover the windows that matter most: a stride above 1 reads
/// strided taps, an adaptive window changes size from output to output, and a global pool has one output per row. A
/// block of as many rows as a register has lanes is transposed into per-thread scratch (position-major, one register
/// per position), run there, and transposed back; <see cref="FloatLanesLoop"/> takes the blocks widest first, and the
/// last few rows of a thread's share run one at a time in place.
/// </para>
/// </summary>
internal static unsafe class CpuPool
{
    /// <summary>
    /// The most scratch floats a thread takes: with <see cref="CpuScratch.Slack"/>, 64 MiB, one of the shared pool's size
    /// classes; a wider block of rows would need more, so it runs narrower.
    /// </summary>
    internal const long MaxScratchFloats = (1L << 24) - CpuScratch.Slack;

    /// <summary>
    /// y [Rows, L_out] = the maximum of each window of x [Rows, L] and argmax [Rows·L_out] its position in the row: the
    /// first maximum, or the last NaN where the window holds one (NaN propagates, as in PyTorch); −∞ and −1 for a window
    /// with no tap inside x. At most <paramref name="width"/> wide.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, Pool1dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(x.Length, y.Length, geometry);
        fixed (float* xp = x, yp = y)
        fixed (int* ip = argmax)
        {
            Run(Pass.MaxForward, xp, yp, ip, geometry, threads, width);
        }
    }

    /// <summary>dx [Rows, L]: each element the sum, over the outputs whose argmax is its position, of their dy [Rows, L_out] (0 for none). At most <paramref name="width"/> wide.</summary>
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, Pool1dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(dx.Length, dy.Length, geometry);
        fixed (float* dyp = dy, dxp = dx)
        fixed (int* ip = argmax)
        {
            Run(Pass.MaxBackward, dyp, dxp, ip, geometry, threads, width);
        }
    }

    /// <summary>y [Rows, L_out] = the sum of each window's taps inside x [Rows, L], divided by <see cref="Pool1dGeometry.Divisor"/>. At most <paramref name="width"/> wide.</summary>
    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, Pool1dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(x.Length, y.Length, geometry);
        fixed (float* xp = x, yp = y)
        {
            Run(Pass.AvgForward, xp, yp, null, geometry, threads, width);
        }
    }

    /// <summary>dx [Rows, L]: each element the sum, over the windows it is a tap of, of their dy divided by their divisor. At most <paramref name="width"/> wide.</summary>
    public static void AvgBackward(ReadOnlySpan<float> dy, Span<float> dx, Pool1dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(dx.Length, dy.Length, geometry);
        fixed (float* dyp = dy, dxp = dx)
        {
            Run(Pass.AvgBackward, dyp, dxp, null, geometry, threads, width);
        }
    }

    /// <summary>
    /// The widest register, at most <paramref name="width"/>, for a thread's share of <paramref name="rows"/> rows: one
    /// whose block of rows fits <see cref="MaxScratchFloats"/> (a block of n rows takes n·(L + 2·L_out) floats: the rows
    /// read, those written and the argmax), and no wider than the share, whose rows would otherwise all run one at a time
    /// in place beside scratch rented for blocks that never run.
    /// </summary>
    internal static CpuVectorWidth WidthFor(Pool1dGeometry g, CpuVectorWidth width, long rows)
    {
        while (width > CpuVectorWidth.Scalar && (ScratchFloats(g, width) > MaxScratchFloats || (int)width > rows))
        {
            width = width == CpuVectorWidth.Vector128 ? CpuVectorWidth.Scalar : (CpuVectorWidth)((int)width / 2);
        }

        return width;
    }

    private static long ScratchFloats(Pool1dGeometry g, CpuVectorWidth width)
        => width == CpuVectorWidth.Scalar ? 0 : (long)width * (g.Length + (2L * g.OutputLength));

    private static void Run(Pass pass, float* input, float* output, int* argmax, Pool1dGeometry g, int threads, CpuVectorWidth width)
    {
        long rowsPerChunk = Math.Max(1, CpuParallel.MinElementsPerChunk / ((long)g.Length + g.OutputLength));
        CpuParallel.For(g.Rows, rowsPerChunk, threads, new Rows(pass, input, output, argmax, g, WidthFor(g, width, g.Rows)));
    }

    private static void CheckLengths(int xLength, int yLength, Pool1dGeometry g)
    {
        if (xLength != (long)g.Rows * g.Length || yLength != (long)g.Rows * g.OutputLength)
        {
            throw new ArgumentException($"Pool: x has {xLength} elements and y {yLength}; {g} needs {(long)g.Rows * g.Length} and {(long)g.Rows * g.OutputLength}.");
        }
    }

    /// <summary>The four loops; a forward reads x and writes y, a backward reads dy and writes dx.</summary>
    private enum Pass
    {
        MaxForward,
        AvgForward,
        MaxBackward,
        AvgBackward,
    }

    /// <summary>A thread's rows [start, start + count): its scratch, then its blocks of rows widest first.</summary>
    private readonly struct Rows(Pass pass, float* input, float* output, int* argmax, Pool1dGeometry g, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var fitted = WidthFor(g, width, count);
            using var scratch = CpuScratch.Rent(ScratchFloats(g, fitted));
            FloatLanesLoop.Run(new Blocks(pass, input, output, argmax, scratch.Pointer, start, g), (int)count, fitted);
        }
    }

    /// <summary>Blocks of TLanes.Count rows from row <paramref name="first"/> + start on.</summary>
    private readonly struct Blocks(Pass pass, float* input, float* output, int* argmax, float* scratch, long first, Pool1dGeometry g) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => RunBlocks<TLanes, TVector>(pass, input, output, argmax, scratch, first, g, start, n);
    }

    // The loops take their pointers as parameters, not struct fields (see IFloatLanesSweep).
    private static int RunBlocks<TLanes, TVector>(Pass pass, float* input, float* output, int* argmax, float* scratch, long first, Pool1dGeometry g, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int r = start;
        for (; r <= n - TLanes.Count; r += TLanes.Count)
        {
            long row = first + r;
            switch (pass)
            {
                case Pass.MaxForward:
                    MaxForwardBlock<TLanes, TVector>(input + (row * g.Length), output + (row * g.OutputLength), argmax + (row * g.OutputLength), scratch, g);
                    break;
                case Pass.AvgForward:
                    AvgForwardBlock<TLanes, TVector>(input + (row * g.Length), output + (row * g.OutputLength), scratch, g);
                    break;
                default:
                    BackwardBlock<TLanes, TVector>(input + (row * g.OutputLength), argmax == null ? null : argmax + (row * g.OutputLength), output + (row * g.Length), scratch, g);
                    break;
            }
        }

        return r;
    }

    /// <summary>
    /// Rows x [lanes, L] from <paramref name="x"/> to y [lanes, L_out] and argmax, through scratch for more than one
    /// lane. The argmax lanes carry positions as raw bits (−1 for none): selected, never computed on.
    /// </summary>
    private static void MaxForwardBlock<TLanes, TVector>(float* x, float* y, int* argmax, float* scratch, Pool1dGeometry g)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int lanes = TLanes.Count;
        float* xs = x, ys = y, best = (float*)argmax;
        if (lanes > 1)
        {
            xs = scratch;
            ys = xs + ((long)g.Length * lanes);
            best = ys + ((long)g.OutputLength * lanes);
            ToLanes(x, g.Length, lanes, xs);
        }

        for (int t = 0; t < g.OutputLength; t++)
        {
            int first = g.First(t), taps = g.Taps(t);
            bool any = false;
            var max = TLanes.Create(float.NegativeInfinity);
            var at = TLanes.Create(BitConverter.Int32BitsToSingle(-1));
            for (int j = 0; j < taps; j++)
            {
                int position = first + (j * g.Dilation);
                if ((uint)position < (uint)g.Length)
                {
                    var value = TLanes.Load(xs + ((long)position * lanes));
                    var here = TLanes.Create(BitConverter.Int32BitsToSingle(position));
                    if (!any)
                    {
                        (max, at, any) = (value, here, true);
                    }
                    else
                    {
                        at = TLanes.WhereGreaterOrNaN(value, max, here, at);
                        max = TLanes.WhereGreaterOrNaN(value, max, value, max);
                    }
                }
            }

            TLanes.Store(max, ys + ((long)t * lanes));
            TLanes.Store(at, best + ((long)t * lanes));
        }

        if (lanes > 1)
        {
            FromLanes(ys, g.OutputLength, lanes, y);
            FromLanes((int*)best, g.OutputLength, lanes, argmax);
        }
    }

    /// <summary>Rows x [lanes, L] from <paramref name="x"/> to y [lanes, L_out], through scratch for more than one lane.</summary>
    private static void AvgForwardBlock<TLanes, TVector>(float* x, float* y, float* scratch, Pool1dGeometry g)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int lanes = TLanes.Count;
        float* xs = x, ys = y;
        if (lanes > 1)
        {
            xs = scratch;
            ys = xs + ((long)g.Length * lanes);
            ToLanes(x, g.Length, lanes, xs);
        }

        for (int t = 0; t < g.OutputLength; t++)
        {
            int first = g.First(t), taps = g.Taps(t);
            var sum = TLanes.Create(0f);
            for (int j = 0; j < taps; j++)
            {
                int position = first + (j * g.Dilation);
                if ((uint)position < (uint)g.Length)
                {
                    sum = TLanes.Add(sum, TLanes.Load(xs + ((long)position * lanes)));
                }
            }

            TLanes.Store(TLanes.Divide(sum, TLanes.Create(g.Divisor(t))), ys + ((long)t * lanes));
        }

        if (lanes > 1)
        {
            FromLanes(ys, g.OutputLength, lanes, y);
        }
    }

    /// <summary>
    /// dx [lanes, L] of a max pooling (argmax given) or of an average (argmax null) from dy [lanes, L_out]: each element
    /// sums, in order of t, the outputs whose window may hold it that route their gradient to it.
    /// </summary>
    private static void BackwardBlock<TLanes, TVector>(float* dy, int* argmax, float* dx, float* scratch, Pool1dGeometry g)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int lanes = TLanes.Count;
        float* dys = dy, best = (float*)argmax, dxs = dx;
        if (lanes > 1)
        {
            dys = scratch;
            best = dys + ((long)g.OutputLength * lanes);
            dxs = best + ((long)g.OutputLength * lanes);
            ToLanes(dy, g.OutputLength, lanes, dys);
            if (argmax != null)
            {
                ToLanes(argmax, g.OutputLength, lanes, (int*)best);
            }
        }

        for (int l = 0; l < g.Length; l++)
        {
            var sum = TLanes.Create(0f);
            var here = TLanes.Create(BitConverter.Int32BitsToSingle(l));
            for (int t = g.FirstOutputAt(l), last = g.LastOutputAt(l); t <= last; t++)
            {
                var term = TLanes.Load(dys + ((long)t * lanes));
                if (argmax != null)
                {
                    sum = TLanes.WhereSameBits(TLanes.Load(best + ((long)t * lanes)), here, TLanes.Add(sum, term), sum);
                }
                else if (g.Holds(t, l))
                {
                    sum = TLanes.Add(sum, TLanes.Divide(term, TLanes.Create(g.Divisor(t))));
                }
            }

            TLanes.Store(sum, dxs + ((long)l * lanes));
        }

        if (lanes > 1)
        {
            FromLanes(dxs, g.Length, lanes, dx);
        }
    }

    /// <summary>lanes rows [lanes, length] to position-major [length, lanes]: one register per position. Copied as bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ToLanes<T>(T* rows, int length, int lanes, T* columns)
        where T : unmanaged
    {
        for (long p = 0; p < length; p++)
        {
            for (int i = 0; i < lanes; i++)
            {
                columns[(p * lanes) + i] = rows[(i * (long)length) + p];
            }
        }
    }

    /// <summary>Position-major [length, lanes] back to lanes rows [lanes, length].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FromLanes<T>(T* columns, int length, int lanes, T* rows)
        where T : unmanaged
    {
        for (int i = 0; i < lanes; i++)
        {
            for (long p = 0; p < length; p++)
            {
                rows[(i * (long)length) + p] = columns[(p * lanes) + i];
            }
        }
    }
}
