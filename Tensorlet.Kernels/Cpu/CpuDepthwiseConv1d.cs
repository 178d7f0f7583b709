namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The depthwise 1-d convolution and its backwards in SIMD C# (<see cref="DepthwiseConv1dGeometry"/> has the layout),
/// without unfolding: each channel's k taps are a short filter slid along its row.
/// <para>
/// The forward runs over blocks of output rows (n, o) and the input gradient over blocks of input rows (n, c), so no two
/// threads write the same element. At stride 1 a register's lanes are consecutive positions t: where every tap of an
/// output lies inside x (or, for the input gradient, every output that reads a position exists) one register takes
/// lanes-many outputs with no checks, tap after tap; the positions near the ends, and every position at a larger
/// stride, run one at a time with each tap checked. Both take the same multiply-adds in the same order (the bias, then
/// the taps; for dx the output channels, then the taps), so the floats are the same at every width and those of the
/// ILGPU kernels up to the fusing of the multiply-adds.
/// </para>
/// <para>
/// The weight gradient runs over blocks of output channels: each (channel, tap) sums dy·x over n and t, at stride 1 in
/// registers over t (so the order of the sum, and its last bits, depend on the width), and adds the sum to the
/// gradient; the bias's gradient sums dy the same way.
/// </para>
/// </summary>
internal static unsafe class CpuDepthwiseConv1d
{
    /// <summary>y [N, C·m, L_out] = bias (none when empty) + the taps of weight [C·m, 1, k] over x [N, C, L]. At most <paramref name="width"/> wide.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> y, DepthwiseConv1dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(x.Length, y.Length, weight.Length, geometry);
        if (y.IsEmpty)
        {
            return;
        }

        fixed (float* xp = x, wp = weight, bp = bias, yp = y)
        {
            var c = geometry.Input;
            long rows = (long)c.Batch * geometry.OutputChannels;
            CpuParallel.For(rows, RowsPerChunk(c.OutputLength, c.KernelSize), threads, new ForwardRows(xp, wp, bp, yp, geometry, width));
        }
    }

    /// <summary>dx [N, C, L]: each element the sum of weight·dy over the taps that read it (0 for none), dy [N, C·m, L_out]. At most <paramref name="width"/> wide.</summary>
    public static void BackwardInput(ReadOnlySpan<float> dy, ReadOnlySpan<float> weight, Span<float> dx, DepthwiseConv1dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(dx.Length, dy.Length, weight.Length, geometry);
        if (dx.IsEmpty)
        {
            return;
        }

        fixed (float* dyp = dy, wp = weight, dxp = dx)
        {
            var c = geometry.Input;
            long rows = (long)c.Batch * c.Channels;
            CpuParallel.For(rows, RowsPerChunk(c.Length, c.KernelSize * geometry.Multiplier), threads, new InputGradientRows(dyp, wp, dxp, geometry, width));
        }
    }

    /// <summary>
    /// weightGradient [C·m, 1, k] += Σ over n and t of dy·x at each tap, and biasGradient [C·m] (when not empty) += Σ over
    /// n and t of dy. At most <paramref name="width"/> wide.
    /// </summary>
    public static void BackwardWeight(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> weightGradient, Span<float> biasGradient, DepthwiseConv1dGeometry geometry, int threads, CpuVectorWidth width)
    {
        CheckLengths(x.Length, dy.Length, weightGradient.Length, geometry);
        if (dy.IsEmpty)
        {
            return;
        }

        fixed (float* xp = x, dyp = dy, wgp = weightGradient, bgp = biasGradient)
        {
            var c = geometry.Input;
            long perChannel = (long)c.Batch * c.OutputLength * (c.KernelSize + 1);
            CpuParallel.For(geometry.OutputChannels, Math.Max(1, CpuParallel.MinElementsPerChunk / perChannel), threads, new WeightGradientChannels(xp, dyp, wgp, bgp, geometry, width));
        }
    }

    private static long RowsPerChunk(int length, int taps) => Math.Max(1, CpuParallel.MinElementsPerChunk / Math.Max(1, (long)length * taps));

    private static void CheckLengths(int xLength, int yLength, int weightLength, DepthwiseConv1dGeometry g)
    {
        var c = g.Input;
        long x = (long)c.Batch * c.Channels * c.Length, y = (long)c.Batch * g.OutputChannels * c.OutputLength, w = (long)g.OutputChannels * c.KernelSize;
        if (xLength != x || yLength != y || weightLength != w)
        {
            throw new ArgumentException($"DepthwiseConv1d: x has {xLength} elements, y {yLength} and the weight {weightLength}; {g} needs {x}, {y} and {w}.");
        }
    }

    /// <summary>Output rows [start, start + count), row n·C·m + o.</summary>
    private readonly struct ForwardRows(float* x, float* weight, float* bias, float* y, DepthwiseConv1dGeometry g, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var c = g.Input;
            for (long row = start; row < start + count; row++)
            {
                long n = row / g.OutputChannels;
                int o = (int)(row - (n * g.OutputChannels));
                ForwardRow(x + (((n * c.Channels) + (o / g.Multiplier)) * c.Length), weight + ((long)o * c.KernelSize), bias == null ? 0f : bias[o], y + (row * c.OutputLength), g, width);
            }
        }
    }

    private static void ForwardRow(float* x, float* w, float b, float* y, DepthwiseConv1dGeometry g, CpuVectorWidth width)
    {
        var c = g.Input;
        int first = 0, end = 0;
        if (c.Stride == 1)
        {
            (first, end) = (g.FirstInside, g.EndInside);
            FloatLanesLoop.Run(new ForwardInside(x + first - c.PaddingLeft, w, b, y + first, c.KernelSize, c.Dilation), end - first, width);
        }

        ForwardChecked(x, w, b, y, g, 0, first);
        ForwardChecked(x, w, b, y, g, end, c.OutputLength);
    }

    // Outputs [from, to) one at a time, each tap checked.
    private static void ForwardChecked(float* x, float* w, float b, float* y, DepthwiseConv1dGeometry g, int from, int to)
    {
        var c = g.Input;
        for (int t = from; t < to; t++)
        {
            float sum = b;
            int position = (t * c.Stride) - c.PaddingLeft;
            for (int i = 0; i < c.KernelSize; i++, position += c.Dilation)
            {
                if ((uint)position < (uint)c.Length)
                {
                    sum = FloatLanes1.MultiplyAdd(w[i], x[position], sum);
                }
            }

            y[t] = sum;
        }
    }

    /// <summary>Outputs [0, n) of a run whose taps all lie inside x: y[t] = b + Σ_i w[i]·x[t + i·dilation], x already shifted to the run's first tap.</summary>
    private readonly struct ForwardInside(float* x, float* w, float b, float* y, int k, int dilation) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => ForwardRun<TLanes, TVector>(x, w, b, y, k, dilation, start, n);
    }

    // The loops take their pointers as parameters, not struct fields (see IFloatLanesSweep).
    private static int ForwardRun<TLanes, TVector>(float* x, float* w, float b, float* y, int k, int dilation, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int t = start;
        for (; t <= n - TLanes.Count; t += TLanes.Count)
        {
            var sum = TLanes.Create(b);
            float* tap = x + t;
            for (int i = 0; i < k; i++, tap += dilation)
            {
                sum = TLanes.MultiplyAdd(TLanes.Create(w[i]), TLanes.Load(tap), sum);
            }

            TLanes.Store(sum, y + t);
        }

        return t;
    }

    /// <summary>Input rows [start, start + count), row n·C + c.</summary>
    private readonly struct InputGradientRows(float* dy, float* weight, float* dx, DepthwiseConv1dGeometry g, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var c = g.Input;
            for (long row = start; row < start + count; row++)
            {
                long n = row / c.Channels;
                int channel = (int)(row - (n * c.Channels));
                int o = channel * g.Multiplier;
                InputGradientRow(dy + (((n * g.OutputChannels) + o) * c.OutputLength), weight + ((long)o * c.KernelSize), dx + (row * c.Length), g, width);
            }
        }
    }

    // dy and w at the row's first output channel; the channel's m outputs follow each other in both.
    private static void InputGradientRow(float* dy, float* w, float* dx, DepthwiseConv1dGeometry g, CpuVectorWidth width)
    {
        var c = g.Input;
        int first = 0, end = 0;
        if (c.Stride == 1)
        {
            // Every tap i reads l from output l + left − i·dilation, which exists for l in [(k − 1)·dilation − left, L_out − left).
            long reach = (long)(c.KernelSize - 1) * c.Dilation;
            first = (int)Math.Clamp(reach - c.PaddingLeft, 0, c.Length);
            end = (int)Math.Clamp((long)c.OutputLength - c.PaddingLeft, first, c.Length);
            FloatLanesLoop.Run(new InputGradientInside(dy + first + c.PaddingLeft, w, dx + first, g), end - first, width);
        }

        InputGradientChecked(dy, w, dx, g, 0, first);
        InputGradientChecked(dy, w, dx, g, end, c.Length);
    }

    // Positions [from, to) one at a time, each tap checked.
    private static void InputGradientChecked(float* dy, float* w, float* dx, DepthwiseConv1dGeometry g, int from, int to)
    {
        var c = g.Input;
        for (int l = from; l < to; l++)
        {
            float sum = 0f;
            for (int j = 0; j < g.Multiplier; j++)
            {
                float* wj = w + ((long)j * c.KernelSize);
                float* dyj = dy + ((long)j * c.OutputLength);
                for (int i = 0; i < c.KernelSize; i++)
                {
                    int t = g.OutputReading(l, i);
                    if (t >= 0)
                    {
                        sum = FloatLanes1.MultiplyAdd(wj[i], dyj[t], sum);
                    }
                }
            }

            dx[l] = sum;
        }
    }

    /// <summary>Positions [0, n) of a run every tap reaches: dx[l] = Σ_j Σ_i w[j, i]·dy[j, l − i·dilation], dy already shifted to the run's first position plus the left padding.</summary>
    private readonly struct InputGradientInside(float* dy, float* w, float* dx, DepthwiseConv1dGeometry g) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => InputGradientRun<TLanes, TVector>(dy, w, dx, g.Multiplier, g.Input.KernelSize, g.Input.Dilation, g.Input.OutputLength, start, n);
    }

    private static int InputGradientRun<TLanes, TVector>(float* dy, float* w, float* dx, int multiplier, int k, int dilation, int outLength, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int l = start;
        for (; l <= n - TLanes.Count; l += TLanes.Count)
        {
            var sum = TLanes.Create(0f);
            for (int j = 0; j < multiplier; j++)
            {
                float* wj = w + ((long)j * k);
                float* tap = dy + ((long)j * outLength) + l;
                for (int i = 0; i < k; i++, tap -= dilation)
                {
                    sum = TLanes.MultiplyAdd(TLanes.Create(wj[i]), TLanes.Load(tap), sum);
                }
            }

            TLanes.Store(sum, dx + l);
        }

        return l;
    }

    /// <summary>Output channels [start, start + count): each tap's weight gradient, then the bias's.</summary>
    private readonly struct WeightGradientChannels(float* x, float* dy, float* weightGradient, float* biasGradient, DepthwiseConv1dGeometry g, CpuVectorWidth width) : IParallelRange
    {
        public void Run(long start, long count)
        {
            var c = g.Input;
            for (long o = start; o < start + count; o++)
            {
                long channel = o / g.Multiplier;
                for (int i = 0; i <= c.KernelSize; i++)
                {
                    bool isBias = i == c.KernelSize;
                    if (isBias && biasGradient == null)
                    {
                        break;
                    }

                    // Output t's tap i reads t·stride − left + i·dilation: the run of t inside x is [from, to).
                    long offset = ((long)i * c.Dilation) - c.PaddingLeft;
                    int from = isBias ? 0 : (int)Math.Clamp((-offset + c.Stride - 1) / c.Stride, 0, c.OutputLength);
                    int to = isBias ? c.OutputLength : (int)Math.Clamp(offset >= c.Length ? 0 : ((c.Length - 1 - offset) / c.Stride) + 1, from, c.OutputLength);
                    float total = 0f;
                    for (long n = 0; n < c.Batch; n++)
                    {
                        float* dyRow = dy + (((n * g.OutputChannels) + o) * c.OutputLength);
                        float* xRow = isBias ? null : x + (((n * c.Channels) + channel) * c.Length) + offset;
                        total += TapSum(dyRow, xRow, from, to, c.Stride, width);
                    }

                    if (isBias)
                    {
                        biasGradient[o] += total;
                    }
                    else
                    {
                        weightGradient[(o * c.KernelSize) + i] += total;
                    }
                }
            }
        }
    }

    // Σ over t in [from, to) of dy[t]·x[t·stride] (x shifted to the tap's offset), or of dy[t] alone for a null x.
    private static float TapSum(float* dy, float* x, int from, int to, int stride, CpuVectorWidth width)
    {
        float sum = 0f;
        if (stride == 1)
        {
            FloatLanesLoop.Run(new TapSums(dy + from, x == null ? null : x + from, &sum), to - from, width);
            return sum;
        }

        for (long t = from; t < to; t++)
        {
            sum = FloatLanes1.MultiplyAdd(dy[t], x == null ? 1f : x[t * stride], sum);
        }

        return sum;
    }

    /// <summary>Adds Σ over [start, n) of dy·x (or of dy for a null x), summed in registers, into *sum.</summary>
    private readonly struct TapSums(float* dy, float* x, float* sum) : IFloatLanesSweep
    {
        public int Run<TLanes, TVector>(int start, int n)
            where TLanes : struct, IFloatLanes<TVector>
            where TVector : struct
            => TapSumRun<TLanes, TVector>(dy, x, sum, start, n);
    }

    private static int TapSumRun<TLanes, TVector>(float* dy, float* x, float* total, int start, int n)
        where TLanes : struct, IFloatLanes<TVector>
        where TVector : struct
    {
        int t = start;
        if (n - t < TLanes.Count)
        {
            return t;
        }

        var sum = TLanes.Create(0f);
        var one = TLanes.Create(1f);
        for (; t <= n - TLanes.Count; t += TLanes.Count)
        {
            sum = TLanes.MultiplyAdd(TLanes.Load(dy + t), x == null ? one : TLanes.Load(x + t), sum);
        }

        *total += TLanes.SumAcross(sum);
        return t;
    }
}
