using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The 1-d max and average poolings and their backwards on every device against the float64 reference. A max copies
/// floats, so its output and argmax must equal the reference's exactly; an average adds at most k floats then divides,
/// and a backward adds at most one term per output of the row, so each element is held to (terms + 1)·u·Σ|terms| (u the
/// float32 rounding unit), the bound of a float sum (design.md, Tolerances).
/// </summary>
public sealed class Pool1dTests
{
    // (N, C, L, k, stride, padding, dilation, count_include_pad, ceil_mode), or k = 0 for adaptive windows with
    // L_out = stride: one element; a plain window; stride, padding and dilation together; a stride past the window
    // (positions no window reads); padding k/2 without counting it (edge windows of fewer taps); adaptive windows that
    // overlap (L not a multiple of L_out), global pooling, more outputs than positions, windows that tile L exactly, and a
    // long window and a dilated one, padded k/2 without counting it (a divisor that counts hundreds of taps; one that
    // skips some). Then ceil_mode: a last window past the padding, its padding counted or not (a divisor below k); one
    // dilated; a stride past the window whose last window would start in the padding and is dropped; an L shorter than
    // the window; and a dilated average past the padding.
    private static readonly (int N, int C, int L, int K, int S, int P, int D, bool Count, bool Ceil)[] Geometries =
    [
        (1, 1, 1, 1, 1, 0, 1, true, false), (2, 3, 7, 3, 1, 0, 1, true, false), (2, 3, 11, 3, 2, 1, 2, true, false),
        (3, 2, 10, 2, 3, 1, 1, true, false), (2, 2, 9, 4, 1, 2, 1, false, false), (2, 3, 10, 0, 3, 0, 1, true, false),
        (2, 3, 7, 0, 1, 0, 1, true, false), (1, 2, 3, 0, 5, 0, 1, true, false), (2, 2, 12, 0, 4, 0, 1, true, false),
        (1, 2, 600, 401, 3, 200, 1, false, false), (2, 2, 40, 5, 2, 2, 3, false, false),
        (2, 3, 10, 3, 2, 1, 1, true, true), (2, 3, 10, 3, 2, 1, 1, false, true), (2, 3, 12, 3, 2, 1, 2, true, true),
        (3, 2, 10, 2, 3, 1, 1, true, true), (1, 2, 2, 3, 2, 0, 1, true, true), (2, 2, 40, 5, 3, 2, 3, true, true),
    ];

    // The cpu device also splits the rows across threads.
    private static readonly (int N, int C, int L, int K, int S, int P, int D, bool Count, bool Ceil)[] CpuGeometries =
        [(8, 16, 300, 5, 2, 2, 2, true, false), (16, 32, 101, 0, 1, 0, 1, true, false), (8, 16, 302, 4, 3, 2, 1, true, true)];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from g in device == "cpu" ? Geometries.Concat(CpuGeometries) : Geometries
        select new TestCaseData(device, g.N, g.C, g.L, g.K, g.S, g.P, g.D, g.Count, g.Ceil)
            .SetArgDisplayNames(device, $"N={g.N}", $"C={g.C}", $"L={g.L}", g.K == 0 ? "adaptive" : $"k={g.K}", $"s={g.S}", $"p={g.P}", $"d={g.D}", g.Count ? "count pad" : "no pad count", g.Ceil ? "ceil" : "floor");

    [TestCaseSource(nameof(Cases))]
    public void MaxPoolAndItsArgmaxEqualTheReference(string deviceName, int n, int c, int l, int k, int stride, int padding, int dilation, bool count, bool ceil)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n, c, l, k, stride, padding, dilation, count, ceil);
        var xData = Uniform(n * c * l, (n * 31) + (c * 7) + l);
        var (expected, expectedArgmax) = ReferenceMax(g, xData);

        using var x = device.FromArray(xData, n, c, l);
        using var y = device.FromArray(Enumerable.Repeat(float.NaN, g.Rows * g.OutputLength).ToArray(), n, c, g.OutputLength);
        using var argmax = device.IndexFromArray(Enumerable.Repeat(-7, g.Rows * g.OutputLength).ToArray(), g.Rows * g.OutputLength);
        Ops.MaxPool(x, y, argmax, g);

        Assert.That(y.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)));
        Assert.That(argmax.ToArray(), Is.EqualTo(expectedArgmax));
        Assert.That(argmax.Bound, Is.EqualTo((-1, Math.Max(0, l - 1))), "the host's bound on the argmax is the row's positions or -1, not the -7 it replaced");
    }

    // nn.MaxPool1d(2, stride=1, padding=1, dilation=3) over a row of 2: the one window's taps, −1 and 2, both lie in the
    // padding (PyTorch gives −inf), so its argmax is −1, which the host's bound must allow.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void TheArgmaxBoundHoldsTheMinusOneOfAWindowWithNoTapInsideX(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var g = Pool1dGeometry.Sliding(1, 2, kernelSize: 2, stride: 1, padding: 1, dilation: 3, countIncludePad: true);
        using var x = device.FromArray([1f, 2f], 1, 1, 2);
        using var y = device.Zeros(1, 1, g.OutputLength);
        using var argmax = device.IndexFromArray(new int[g.OutputLength], g.OutputLength);
        Ops.MaxPool(x, y, argmax, g);

        var values = argmax.ToArray();
        Assert.That(values, Does.Contain(-1), "a window with no tap inside x");
        var (min, max) = argmax.Bound;
        Assert.That(values, Is.All.InRange(min, max), "a bound is never narrower than the values");
    }

    [TestCaseSource(nameof(Cases))]
    public void MaxPoolBackwardMatchesTheReference(string deviceName, int n, int c, int l, int k, int stride, int padding, int dilation, bool count, bool ceil)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n, c, l, k, stride, padding, dilation, count, ceil);
        var (_, argmaxData) = ReferenceMax(g, Uniform(n * c * l, 3));
        var dyData = Uniform(g.Rows * g.OutputLength, 4);
        var expected = new double[n * c * l];
        var magnitude = new double[n * c * l];
        ReferencePool.MaxBackward(g, ToDouble(dyData), argmaxData, expected);
        ReferencePool.MaxBackward(g, Array.ConvertAll(dyData, v => Math.Abs((double)v)), argmaxData, magnitude);

        using var dy = device.FromArray(dyData, n, c, g.OutputLength);
        using var argmax = device.IndexFromArray(argmaxData, argmaxData.Length);
        using var dx = device.FromArray(Enumerable.Repeat(float.NaN, n * c * l).ToArray(), n, c, l);
        Ops.MaxPoolBackward(dy, argmax, dx, g);

        AssertWithinSumBound(dx.ToArray(), expected, magnitude, g.OutputLength);
        Assert.That(dy.ToArray(), Is.EqualTo(dyData), "dy must not be touched");
    }

    [TestCaseSource(nameof(Cases))]
    public void AvgPoolMatchesTheReference(string deviceName, int n, int c, int l, int k, int stride, int padding, int dilation, bool count, bool ceil)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n, c, l, k, stride, padding, dilation, count, ceil);
        var xData = Uniform(n * c * l, (n * 37) + (c * 11) + l);
        var expected = new double[g.Rows * g.OutputLength];
        var magnitude = new double[expected.Length];
        ReferencePool.AvgForward(g, ToDouble(xData), expected);
        ReferencePool.AvgForward(g, Array.ConvertAll(xData, v => Math.Abs((double)v)), magnitude);

        using var x = device.FromArray(xData, n, c, l);
        using var y = device.FromArray(Enumerable.Repeat(float.NaN, expected.Length).ToArray(), n, c, g.OutputLength);
        Ops.AvgPool(x, y, g);

        AssertWithinSumBound(y.ToArray(), expected, magnitude, Enumerable.Range(0, g.OutputLength).Max(g.Taps));
    }

    [TestCaseSource(nameof(Cases))]
    public void AvgPoolBackwardMatchesTheReference(string deviceName, int n, int c, int l, int k, int stride, int padding, int dilation, bool count, bool ceil)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n, c, l, k, stride, padding, dilation, count, ceil);
        var dyData = Uniform(g.Rows * g.OutputLength, 5);
        var expected = new double[n * c * l];
        var magnitude = new double[n * c * l];
        ReferencePool.AvgBackward(g, ToDouble(dyData), expected);
        ReferencePool.AvgBackward(g, Array.ConvertAll(dyData, v => Math.Abs((double)v)), magnitude);

        using var dy = device.FromArray(dyData, n, c, g.OutputLength);
        using var dx = device.FromArray(Enumerable.Repeat(float.NaN, n * c * l).ToArray(), n, c, l);
        Ops.AvgPoolBackward(dy, dx, g);

        AssertWithinSumBound(dx.ToArray(), expected, magnitude, g.OutputLength);
    }

    // The width-by-width test's windows over rows of L: stride, padding and dilation together; a ceil-mode window past the
    // padding, the padding not counted; adaptive windows of uneven size; global pooling.
    private static readonly (int L, int K, int S, int P, int D, bool Count, bool Ceil)[] WidthGeometries =
        [(11, 3, 2, 1, 2, true, false), (10, 3, 2, 1, 1, false, true), (10, 0, 3, 0, 1, true, false), (13, 0, 1, 0, 1, true, false)];

    /// <summary>
    /// The cpu loops at each register width the machine runs, on two threads, over row counts around each width (whole
    /// registers of rows, then narrower ones, then single rows; 2001 rows split across the threads): the max and its
    /// argmax equal the reference's on rows full of ties, NaN, −∞ and signed zeros, the averages and the backwards are
    /// within the reference's bound, and every output and gradient has the bits of the rows run one at a time.
    /// </summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuLoopsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);
        foreach (int rows in new[] { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 2001 })
        {
            foreach (var (l, k, stride, padding, dilation, count, ceil) in WidthGeometries)
            {
                AssertCpuLoopsMatchTheReference(Geometry(rows, 1, l, k, stride, padding, dilation, count, ceil), width, rows + l);
            }
        }
    }

    /// <summary>
    /// The cpu loops at <paramref name="width"/> and one float at a time, on two threads, over <paramref name="g"/>'s
    /// rows or planes: the max and its argmax equal the reference's on values full of ties, NaN, −∞ and signed zeros,
    /// the average and the backwards are within the reference's bound, and every output and gradient has the bits of one
    /// row or plane at a time.
    /// </summary>
    internal static void AssertCpuLoopsMatchTheReference(Pool2dGeometry g, CpuVectorWidth width, int seed)
    {
        string what = $"{width}, {g}";
        int size = g.Planes * g.InputSize, outputs = g.Planes * g.OutputSize;
        var tied = Tied(size, seed);
        var (expected, expectedArgmax) = ReferenceMax(g, tied);
        var (y, argmax) = CpuMax(g, tied, width);
        Assert.That(y, Is.EqualTo(Array.ConvertAll(expected, v => (float)v)), what);
        Assert.That(argmax, Is.EqualTo(expectedArgmax), what);
        AssertSameBits(y, CpuMax(g, tied, CpuVectorWidth.Scalar).Y, what);

        var x = Uniform(size, seed);
        var dy = Uniform(outputs, seed + 1);
        var widths = new[] { width, CpuVectorWidth.Scalar };
        var average = Array.ConvertAll(widths, w => WrittenOverNaN(outputs, y => CpuPool.AvgForward(x, y, g, threads: 2, w)));
        var maxGradient = Array.ConvertAll(widths, w => WrittenOverNaN(size, dx => CpuPool.MaxBackward(dy, argmax, dx, g, threads: 2, w)));
        var averageGradient = Array.ConvertAll(widths, w => WrittenOverNaN(size, dx => CpuPool.AvgBackward(dy, dx, g, threads: 2, w)));

        var reference = new double[outputs];
        var magnitude = new double[outputs];
        ReferencePool.AvgForward(g, ToDouble(x), reference);
        ReferencePool.AvgForward(g, Array.ConvertAll(x, v => Math.Abs((double)v)), magnitude);
        AssertWithinSumBound(average[0], reference, magnitude, MaxTaps(g));

        reference = new double[size];
        magnitude = new double[size];
        ReferencePool.MaxBackward(g, ToDouble(dy), argmax, reference);
        ReferencePool.MaxBackward(g, Array.ConvertAll(dy, v => Math.Abs((double)v)), argmax, magnitude);
        AssertWithinSumBound(maxGradient[0], reference, magnitude, g.OutputSize);
        ReferencePool.AvgBackward(g, ToDouble(dy), reference);
        ReferencePool.AvgBackward(g, Array.ConvertAll(dy, v => Math.Abs((double)v)), magnitude);
        AssertWithinSumBound(averageGradient[0], reference, magnitude, g.OutputSize);

        AssertSameBits(average[0], average[1], $"average, {what}");
        AssertSameBits(maxGradient[0], maxGradient[1], $"max backward, {what}");
        AssertSameBits(averageGradient[0], averageGradient[1], $"average backward, {what}");
    }

    /// <summary>The most taps a window of <paramref name="g"/> has, padding included: the product of the axes'.</summary>
    internal static int MaxTaps(Pool2dGeometry g)
        => Enumerable.Range(0, g.Height.OutputLength).Max(g.Height.Taps) * Enumerable.Range(0, g.Width.OutputLength).Max(g.Width.Taps);

    // A block of n rows takes n·(L + 2·L_out) floats of scratch: a row too long for a block of one width runs narrower.
    [Test]
    public void RowsTooLongForAThreadsScratchRunInNarrowerRegisters()
    {
        var fits = Pool1dGeometry.AdaptiveWindows(64, (int)(CpuPool.MaxScratchFloats / 16) - 2, 1);
        Assert.That(CpuPool.WidthFor(fits, CpuVectorWidth.Vector512, fits.Rows), Is.EqualTo(CpuVectorWidth.Vector512));
        Assert.That(CpuPool.WidthFor(fits with { Length = fits.Length + 1 }, CpuVectorWidth.Vector512, fits.Rows), Is.EqualTo(CpuVectorWidth.Vector256));
        Assert.That(CpuPool.WidthFor(fits with { Length = fits.Length + 1 }, CpuVectorWidth.Vector128, fits.Rows), Is.EqualTo(CpuVectorWidth.Vector128));
        Assert.That(CpuPool.WidthFor(fits with { Length = (int)(CpuPool.MaxScratchFloats / 2) }, CpuVectorWidth.Vector512, fits.Rows), Is.EqualTo(CpuVectorWidth.Scalar));
    }

    // The widest block that fits, with the scratch's alignment slack, rents one 64 MiB array from the shared pool: a
    // request one float larger is rounded up to the next size class, 128 MiB, and the pool keeps it.
    [Test]
    public void TheWidestBlockThatFitsRentsNoMoreThan64MiB()
    {
        var fits = Pool1dGeometry.AdaptiveWindows(64, (int)(CpuPool.MaxScratchFloats / 16) - 2, 1);
        Assert.That(CpuPool.WidthFor(fits, CpuVectorWidth.Vector512, fits.Rows), Is.EqualTo(CpuVectorWidth.Vector512));
        long floats = 16L * (fits.Length + (2L * fits.OutputLength));
        var rented = System.Buffers.ArrayPool<float>.Shared.Rent((int)floats + CpuScratch.Slack);
        try
        {
            Assert.That((long)rented.Length * sizeof(float), Is.LessThanOrEqualTo(64L << 20));
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }
    }

    // A thread's share of fewer rows than a register's lanes would run every row in place, one at a time: it runs at the
    // widest register it fills instead, and rents scratch only for blocks that run.
    [TestCase(1, 1)]
    [TestCase(3, 1)]
    [TestCase(4, 4)]
    [TestCase(15, 8)]
    [TestCase(16, 16)]
    public void AShareOfFewRowsRunsNoWiderThanItFills(long rows, int expectedLanes)
    {
        var expected = (CpuVectorWidth)expectedLanes;
        var g = Pool1dGeometry.Sliding(100, 1000, kernelSize: 3, stride: 2, padding: 1, dilation: 1, countIncludePad: true);
        Assert.That(CpuPool.WidthFor(g, CpuVectorWidth.Vector512, rows), Is.EqualTo(expected));
    }

    // As PyTorch on the CPU: a NaN is the maximum of any window that holds it (the last NaN where there are two), ties go
    // to the first position, −∞ is a value like any other, and padding is never the maximum.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void MaxPoolPropagatesNaNTakesTheFirstOfTiesAndNeverAPaddedTap(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        float nan = float.NaN, inf = float.PositiveInfinity;
        float[] data = [1f, nan, 3f, nan, 2f, 5f, 4f, 4f, -inf, -inf, -inf, 0f];
        var g = Pool1dGeometry.Sliding(1, data.Length, 3, 3, 1, 1, countIncludePad: true);
        using var x = device.FromArray(data, 1, 1, data.Length);
        using var y = device.Zeros(1, 1, g.OutputLength);
        using var argmax = device.IndexZeros(g.OutputLength);
        Ops.MaxPool(x, y, argmax, g);

        // Windows [-1, 2), [2, 5), [5, 8), [8, 11): padding, 1, NaN | 3, NaN, 2 | 5, 4, 4 | −∞, −∞, −∞.
        Assert.That(y.ToArray(), Is.EqualTo(new[] { nan, nan, 5f, -inf }));
        Assert.That(argmax.ToArray(), Is.EqualTo(new[] { 1, 3, 5, 8 }));
        var (expected, expectedArgmax) = ReferenceMax(g, data);
        Assert.That(argmax.ToArray(), Is.EqualTo(expectedArgmax), "the reference agrees");
        Assert.That(expected[..2].All(double.IsNaN), "the reference propagates NaN");

        var global = Pool1dGeometry.AdaptiveWindows(1, data.Length, 1);
        using var one = device.Zeros(1, 1, 1);
        using var oneArgmax = device.IndexZeros(1);
        Ops.MaxPool(x, one, oneArgmax, global);
        Assert.That(oneArgmax.ToArray(), Is.EqualTo(new[] { 3 }), "the last NaN of the whole row");

        float[] ties = [2f, 7f, 7f, 1f, 7f];
        using var tied = device.FromArray(ties, 1, 1, ties.Length);
        Ops.MaxPool(tied, one, oneArgmax, Pool1dGeometry.AdaptiveWindows(1, ties.Length, 1));
        Assert.That(oneArgmax.ToArray(), Is.EqualTo(new[] { 1 }), "the first of equal maxima");
    }

    // L_out and the divisors of ceil_mode as PyTorch 1.13 gives them: ⌈s/stride⌉ + 1, less one where the last window
    // would start in the right padding, and with count_include_pad a last window past the padding divides by its taps
    // before L + padding.
    [Test]
    public void CeilModeRoundsLOutUpDropsAWindowStartingInThePaddingAndCountsOnlyThePadding()
    {
        foreach (var (l, k, stride, padding, dilation, floor, ceil) in new[]
        {
            (10, 3, 2, 1, 1, 5, 6), (5, 2, 2, 1, 1, 3, 3), (10, 2, 3, 1, 1, 4, 4), (12, 3, 2, 1, 2, 5, 6), (40, 5, 3, 2, 3, 11, 12), (2, 3, 2, 0, 1, 0, 1),
        })
        {
            Assert.That(Pool1dGeometry.OutputLengthOf(l, k, stride, padding, dilation, ceilMode: false), Is.EqualTo(floor), $"L={l} k={k} s={stride} p={padding} d={dilation}");
            Assert.That(Pool1dGeometry.OutputLengthOf(l, k, stride, padding, dilation, ceilMode: true), Is.EqualTo(ceil), $"L={l} k={k} s={stride} p={padding} d={dilation}, ceil");
        }

        int[] Divisors(Pool1dGeometry g) => [.. Enumerable.Range(0, g.OutputLength).Select(g.Divisor)];
        Assert.That(Divisors(Pool1dGeometry.Sliding(1, 10, 3, 2, 1, 1, countIncludePad: true, ceilMode: true)), Is.EqualTo(new[] { 3, 3, 3, 3, 3, 2 }));
        Assert.That(Divisors(Pool1dGeometry.Sliding(1, 10, 3, 2, 1, 1, countIncludePad: false, ceilMode: true)), Is.EqualTo(new[] { 2, 3, 3, 3, 3, 1 }));
        Assert.That(Divisors(Pool1dGeometry.Sliding(1, 10, 2, 3, 1, 1, countIncludePad: true, ceilMode: true)), Is.EqualTo(new[] { 2, 2, 2, 2 }));
        Assert.That(Divisors(Pool1dGeometry.Sliding(1, 2, 3, 2, 0, 1, countIncludePad: true, ceilMode: true)), Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public void BadWindowsAndShapesAreRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.Zeros(2, 3, 7);
        using var y = device.Zeros(2, 3, 5);
        using var argmax = device.IndexZeros(30);
        var g = Pool1dGeometry.Sliding(6, 7, 3, 1, 0, 1, countIncludePad: true);
        Assert.DoesNotThrow(() => Ops.MaxPool(x, y, argmax, g));

        void Refused(TestDelegate call, string named)
        {
            var e = Assert.Throws<ArgumentException>(call)!;
            Assert.That(e.Message, Does.Contain(named).And.Not.Contain('\n'));
        }

        using var shortArgmax = device.IndexZeros(29);
        using var wrongLength = device.Zeros(2, 3, 4);
        using var rows = device.Zeros(6, 7);
        Refused(() => Ops.MaxPool(x, y, shortArgmax, g), "argmax [29]");
        Refused(() => Ops.AvgPool(x, wrongLength, g), "[2, 3, 4]");
        Refused(() => Ops.AvgPool(rows, y, g), "[6, 7]");
        Refused(() => Ops.AvgPoolBackward(y, wrongLength, g), "[2, 3, 4]");
        Refused(() => Ops.AvgPool(x, y, g with { Padding = 2 }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool(x, y, g with { OutputLength = 4 }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool(x, x, Pool1dGeometry.AdaptiveWindows(6, 7, 7)), "separate buffers");

        // L = 8, k = 3, stride 2: ceil_mode's 4 windows are not the 3 of floor mode, nor the reverse.
        using var eight = device.Zeros(2, 3, 8);
        using var four = device.Zeros(2, 3, 4);
        var ceil = Pool1dGeometry.Sliding(6, 8, 3, 2, 0, 1, countIncludePad: true, ceilMode: true);
        Assert.DoesNotThrow(() => Ops.AvgPool(eight, four, ceil));
        Refused(() => Ops.AvgPool(eight, four, ceil with { CeilMode = 0 }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool(eight, y, ceil), "[2, 3, 5]");
    }

    private static Pool1dGeometry Geometry(int n, int c, int l, int k, int stride, int padding, int dilation, bool count, bool ceil)
        => k == 0 ? Pool1dGeometry.AdaptiveWindows(n * c, l, stride) : Pool1dGeometry.Sliding(n * c, l, k, stride, padding, dilation, count, ceil);

    // The reference's max and argmax, for a 1-d pooling's windows too (planes of height 1).
    internal static (double[] Y, int[] Argmax) ReferenceMax(Pool2dGeometry g, float[] x)
    {
        var y = new double[g.Planes * g.OutputSize];
        var argmax = new int[y.Length];
        ReferencePool.MaxForward(g, ToDouble(x), y, argmax);
        return (y, argmax);
    }

    internal static (float[] Y, int[] Argmax) CpuMax(Pool2dGeometry g, float[] x, CpuVectorWidth width)
    {
        var y = new float[g.Planes * g.OutputSize];
        var argmax = new int[y.Length];
        CpuPool.MaxForward(x, y, argmax, g, threads: 2, width);
        return (y, argmax);
    }

    // Values drawn from a handful, so that windows tie, hold NaN, hold only −∞, or hold both zeros.
    internal static float[] Tied(int n, int seed)
    {
        float[] values = [float.NegativeInfinity, -1f, -0f, 0f, 1f, 2f, float.NaN];
        var random = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => values[random.Next(values.Length)])];
    }
}
