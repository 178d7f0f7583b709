using System.Runtime.CompilerServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The max and average poolings, 1-d and 2-d, and their backwards in SIMD C# (<see cref="Pool2dGeometry"/> has the
/// windows; a 1-d pooling is a 2-d one of height 1), over blocks of the planes [p, :] of x, so no two threads write the
/// same element. Each output takes its taps in order (row by row) and each input-gradient element sums its outputs in
/// order of (oh, ow), as the ILGPU kernels do, so both give the same floats.
/// <para>
/// A register's lanes are planes (rows of a 1-d pooling; channels, with the batch, of a 2-d one), not positions or
/// output columns: every plane has the same windows, so each branch of the loops (a tap in
/// the padding, a window cut short by ceil mode, an adaptive window's size, an output whose window may hold a position)
/// is taken by all lanes at once, and each lane runs exactly the operations of a single plane, in the same order. The
/// floats are therefore those of one plane at a time, at every width: the same maximum and argmax (the first maximum, the
/// last NaN), the same sums. Lanes over positions or output columns would not cover the windows that matter most: a
/// stride above 1 reads strided taps, an adaptive window changes size from output to output, and a global pool has one
/// output per plane. A block of as many planes as a register has lanes is transposed into per-thread scratch
/// (position-major, one register per position), run there, and transposed back; <see cref="FloatLanesLoop"/> takes the
/// blocks widest first, and the last few planes of a thread's share run one at a time in place.
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
    /// y [Planes, H_out·W_out] = the maximum of each window of x [Planes, H·W] and argmax its position h·W + w in the plane: the
    /// first maximum, or the last NaN where the window holds one (NaN propagates, as in PyTorch); −∞ and −1 for a window
    /// with no tap inside x. At most <paramref name="width"/> wide.
    /// </summary>
    public static void MaxForward(ReadOnlySpan<float> x, Span<float> y, Span<int> argmax, Pool2dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(x.Length, y.Length, geometry);
        fixed (float* xp = x, yp = y)
        fixed (int* ip = argmax)
        {
            Run(Pass.MaxForward, xp, yp, ip, geometry, threads, width);
        }
    }

    /// <summary>dx [Planes, H·W]: each element the sum, over the outputs whose argmax is its position, of their dy [Planes, H_out·W_out] (0 for none). At most <paramref name="width"/> wide.</summary>
    public static void MaxBackward(ReadOnlySpan<float> dy, ReadOnlySpan<int> argmax, Span<float> dx, Pool2dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(dx.Length, dy.Length, geometry);
        fixed (float* dyp = dy, dxp = dx)
        fixed (int* ip = argmax)
        {
            Run(Pass.MaxBackward, dyp, dxp, ip, geometry, threads, width);
        }
    }

    /// <summary>y [Planes, H_out·W_out] = the sum of each window's taps inside x [Planes, H·W], divided by <see cref="Pool2dGeometry.Divisor"/>. At most <paramref name="width"/> wide.</summary>
    public static void AvgForward(ReadOnlySpan<float> x, Span<float> y, Pool2dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(x.Length, y.Length, geometry);
        fixed (float* xp = x, yp = y)
        {
            Run(Pass.AvgForward, xp, yp, null, geometry, threads, width);
        }
    }

    /// <summary>dx [Planes, H·W]: each element the sum, over the windows it is a tap of, of their dy divided by their divisor. At most <paramref name="width"/> wide.</summary>
    public static void AvgBackward(ReadOnlySpan<float> dy, Span<float> dx, Pool2dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(dx.Length, dy.Length, geometry);
        fixed (float* dyp = dy, dxp = dx)
        {
            Run(Pass.AvgBackward, dyp, dxp, null, geometry, threads, width);
        }
    }

    /// <summary>
    /// The widest register, at most <paramref name="width"/>, for a thread's share of <paramref name="rows"/> planes: one
    /// whose block of planes fits <see cref="MaxScratchFloats"/> (a block of n planes takes n·(H·W + 2·H_out·W_out)
    /// floats: the planes read, those written and the argmax), and no wider than the share, whose planes would otherwise
    /// all run one at a time in place beside scratch rented for blocks that never run.
    /// </summary>
    internal static CpuVectorWidth WidthFor(Pool2dGeometry g, CpuVectorWidth width, long rows)
    {
        while (width > CpuVectorWidth.Scalar && (ScratchFloats(g, width) > MaxScratchFloats || (int)width > rows))
        {
            width = width == CpuVectorWidth.Vector128 ? CpuVectorWidth.Scalar : (CpuVectorWidth)((int)width / 2);
        }

        return width;
    }

    private static long ScratchFloats(Pool2dGeometry g, CpuVectorWidth width)
        => width == CpuVectorWidth.Scalar ? 0 : (long)width * (g.InputSize + (2L * g.OutputSize));

    private static void Run(Pass pass, float* input, float* output, int* argmax, Pool2dGeometry g, int threads, CpuVectorWidth width)
    {
        long rowsPerChunk = Math.Max(1, CpuParallel.MinElementsPerChunk / ((long)g.InputSize + g.OutputSize));
        CpuParallel.For(g.Planes, rowsPerChunk, threads, new Rows(pass, input, output, argmax, g, WidthFor(g, width, g.Planes)));
    }

    private static void CheckLengths(int xLength, int yLength, Pool2dGeometry g)
    {
        if (xLength != (long)g.Planes * g.InputSize || yLength != (long)g.Planes * g.OutputSize)
        {
            throw new ArgumentException($"Pool: x has {xLength} elements and y {yLength}; {g} needs {(long)g.Planes * g.InputSize} and {(long)g.Planes * g.OutputSize}.");
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
    private readonly struct Rows(Pass pass, float* input, float* output, int* argmax, Pool2dGeometry g, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var fitted = WidthFor(g, width, count);
            using var scratch = CpuScratch.Rent(ScratchFloats(g, fitted));
            FloatLanesLoop.Run(new Blocks(pass, input, output, argmax, scratch.Pointer, start, g), (int)count, fitted);
        }
    }

    /// <summary>Blocks of TLanes.Count rows from row <paramref name="first"/> + start on.</summary>
    private readonly struct Blocks(Pass pass, float* input, float* output, int* argmax, float* scratch, long first, Pool2dGeometry g) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => RunBlocks<TLanes, TVector>(pass, input, output, argmax, scratch, first, g, start, n);
    }

    // The loops take their pointers as parameters, not struct fields (see IFloatLanesSweep).
    private static int RunBlocks<TLanes, TVector>(Pass pass, float* input, float* output, int* argmax, float* scratch, long first, Pool2dGeometry g, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int r = start;
        for (; r <= n - TLanes.Count; r += TLanes.Count)
        {
            long row = first + r;
            switch (pass)
            {
                case Pass.MaxForward or Pass.AvgForward:
                    ForwardBlock<TLanes, TVector>(input + (row * g.InputSize), output + (row * g.OutputSize), argmax == null ? null : argmax + (row * g.OutputSize), scratch, g);
                    break;
                default:
                    BackwardBlock<TLanes, TVector>(input + (row * g.OutputSize), argmax == null ? null : argmax + (row * g.OutputSize), output + (row * g.InputSize), scratch, g);
                    break;
            }
        }

        return r;
    }

    /// <summary>
    /// Planes x [lanes, H·W] from <paramref name="x"/> to y [lanes, H_out·W_out], through scratch for more than one lane:
    /// a max pooling's maxima and argmax (argmax given) or an average's means (argmax null), each window's taps taken row
    /// by row. The argmax lanes carry positions as raw bits (−1 for none): selected, never computed on.
    /// </summary>
    private static void ForwardBlock<TLanes, TVector>(float* x, float* y, int* argmax, float* scratch, Pool2dGeometry g)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int lanes = TLanes.Count;
        float* xs = x, ys = y, best = (float*)argmax;
        if (lanes > 1)
        {
            xs = scratch;
            ys = xs + ((long)g.InputSize * lanes);
            best = argmax == null ? null : ys + ((long)g.OutputSize * lanes);
            ToLanes(x, g.InputSize, lanes, xs);
        }

        Pool1dGeometry alongH = g.Height, alongW = g.Width;
        for (int oh = 0, t = 0; oh < alongH.OutputLength; oh++)
        {
            int top = alongH.First(oh), tall = alongH.Taps(oh);
            for (int ow = 0; ow < alongW.OutputLength; ow++, t++)
            {
                int left = alongW.First(ow), wide = alongW.Taps(ow);
                bool any = false;
                var sum = TLanes.Create(0f);
                var max = TLanes.Create(float.NegativeInfinity);
                var at = TLanes.Create(BitConverter.Int32BitsToSingle(-1));
                for (int i = 0; i < tall; i++)
                {
                    int h = top + (i * alongH.Dilation);
                    if ((uint)h >= (uint)alongH.Length)
                    {
                        continue;
                    }

                    for (int j = 0; j < wide; j++)
                    {
                        int w = left + (j * alongW.Dilation);
                        if ((uint)w >= (uint)alongW.Length)
                        {
                            continue;
                        }

                        int position = (h * alongW.Length) + w;
                        var value = TLanes.Load(xs + ((long)position * lanes));
                        if (best == null)
                        {
                            sum = TLanes.Add(sum, value);
                        }
                        else if (!any)
                        {
                            (max, at, any) = (value, TLanes.Create(BitConverter.Int32BitsToSingle(position)), true);
                        }
                        else
                        {
                            at = TLanes.WhereGreaterOrNaN(value, max, TLanes.Create(BitConverter.Int32BitsToSingle(position)), at);
                            max = TLanes.WhereGreaterOrNaN(value, max, value, max);
                        }
                    }
                }

                if (best == null)
                {
                    TLanes.Store(TLanes.Divide(sum, TLanes.Create(g.Divisor(oh, ow))), ys + ((long)t * lanes));
                }
                else
                {
                    TLanes.Store(max, ys + ((long)t * lanes));
                    TLanes.Store(at, best + ((long)t * lanes));
                }
            }
        }

        if (lanes > 1)
        {
            FromLanes(ys, g.OutputSize, lanes, y);
            if (argmax != null)
            {
                FromLanes((int*)best, g.OutputSize, lanes, argmax);
            }
        }
    }

    /// <summary>
    /// dx [lanes, H·W] of a max pooling (argmax given) or of an average (argmax null) from dy [lanes, H_out·W_out]: each
    /// element sums, in order of (oh, ow), the outputs whose window may hold it that route their gradient to it.
    /// </summary>
    private static void BackwardBlock<TLanes, TVector>(float* dy, int* argmax, float* dx, float* scratch, Pool2dGeometry g)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int lanes = TLanes.Count;
        float* dys = dy, best = (float*)argmax, dxs = dx;
        if (lanes > 1)
        {
            dys = scratch;
            best = dys + ((long)g.OutputSize * lanes);
            dxs = best + ((long)g.OutputSize * lanes);
            ToLanes(dy, g.OutputSize, lanes, dys);
            if (argmax != null)
            {
                ToLanes(argmax, g.OutputSize, lanes, (int*)best);
            }
        }

        Pool1dGeometry alongH = g.Height, alongW = g.Width;
        for (int h = 0, l = 0; h < alongH.Length; h++)
        {
            for (int w = 0; w < alongW.Length; w++, l++)
            {
                var sum = TLanes.Create(0f);
                var here = TLanes.Create(BitConverter.Int32BitsToSingle(l));
                for (int oh = alongH.FirstOutputAt(h), lastRow = alongH.LastOutputAt(h); oh <= lastRow; oh++)
                {
                    for (int ow = alongW.FirstOutputAt(w), last = alongW.LastOutputAt(w); ow <= last; ow++)
                    {
                        long t = ((long)oh * alongW.OutputLength) + ow;
                        var term = TLanes.Load(dys + (t * lanes));
                        if (argmax != null)
                        {
                            sum = TLanes.WhereSameBits(TLanes.Load(best + (t * lanes)), here, TLanes.Add(sum, term), sum);
                        }
                        else if (alongH.Holds(oh, h) && alongW.Holds(ow, w))
                        {
                            sum = TLanes.Add(sum, TLanes.Divide(term, TLanes.Create(g.Divisor(oh, ow))));
                        }
                    }
                }

                TLanes.Store(sum, dxs + ((long)l * lanes));
            }
        }

        if (lanes > 1)
        {
            FromLanes(dxs, g.InputSize, lanes, dx);
        }
    }

    /// <summary>lanes rows [lanes, length] to position-major [length, lanes]: one register per position. Copied as bits.</summary>
    private static void ToLanes<T>(T* rows, int length, int lanes, T* columns)
        where T : unmanaged
        => CpuTranspose.Bits((float*)rows, lanes, length, (float*)columns);

    /// <summary>Position-major [length, lanes] back to lanes rows [lanes, length].</summary>
    private static void FromLanes<T>(T* columns, int length, int lanes, T* rows)
        where T : unmanaged
        => CpuTranspose.Bits((float*)columns, length, lanes, (float*)rows);
}
