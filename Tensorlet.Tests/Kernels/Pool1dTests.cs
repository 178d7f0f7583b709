using NUnit.Framework;
using Tensorlet.Kernels;
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
    private const double U = 5.97e-8;

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
        Ops.MaxPool1d(x, y, argmax, g);

        Assert.That(y.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)));
        Assert.That(argmax.ToArray(), Is.EqualTo(expectedArgmax));
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
        Ops.MaxPool1dBackward(dy, argmax, dx, g);

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
        Ops.AvgPool1d(x, y, g);

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
        Ops.AvgPool1dBackward(dy, dx, g);

        AssertWithinSumBound(dx.ToArray(), expected, magnitude, g.OutputLength);
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
        Ops.MaxPool1d(x, y, argmax, g);

        // Windows [-1, 2), [2, 5), [5, 8), [8, 11): padding, 1, NaN | 3, NaN, 2 | 5, 4, 4 | −∞, −∞, −∞.
        Assert.That(y.ToArray(), Is.EqualTo(new[] { nan, nan, 5f, -inf }));
        Assert.That(argmax.ToArray(), Is.EqualTo(new[] { 1, 3, 5, 8 }));
        var (expected, expectedArgmax) = ReferenceMax(g, data);
        Assert.That(argmax.ToArray(), Is.EqualTo(expectedArgmax), "the reference agrees");
        Assert.That(expected[..2].All(double.IsNaN), "the reference propagates NaN");

        var global = Pool1dGeometry.AdaptiveWindows(1, data.Length, 1);
        using var one = device.Zeros(1, 1, 1);
        using var oneArgmax = device.IndexZeros(1);
        Ops.MaxPool1d(x, one, oneArgmax, global);
        Assert.That(oneArgmax.ToArray(), Is.EqualTo(new[] { 3 }), "the last NaN of the whole row");

        float[] ties = [2f, 7f, 7f, 1f, 7f];
        using var tied = device.FromArray(ties, 1, 1, ties.Length);
        Ops.MaxPool1d(tied, one, oneArgmax, Pool1dGeometry.AdaptiveWindows(1, ties.Length, 1));
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
        Assert.DoesNotThrow(() => Ops.MaxPool1d(x, y, argmax, g));

        void Refused(TestDelegate call, string named)
        {
            var e = Assert.Throws<ArgumentException>(call)!;
            Assert.That(e.Message, Does.Contain(named).And.Not.Contain('\n'));
        }

        using var shortArgmax = device.IndexZeros(29);
        using var wrongLength = device.Zeros(2, 3, 4);
        using var rows = device.Zeros(6, 7);
        Refused(() => Ops.MaxPool1d(x, y, shortArgmax, g), "argmax [29]");
        Refused(() => Ops.AvgPool1d(x, wrongLength, g), "[2, 3, 4]");
        Refused(() => Ops.AvgPool1d(rows, y, g), "[6, 7]");
        Refused(() => Ops.AvgPool1dBackward(y, wrongLength, g), "[2, 3, 4]");
        Refused(() => Ops.AvgPool1d(x, y, g with { Padding = 2 }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool1d(x, y, g with { OutputLength = 4 }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool1d(x, x, Pool1dGeometry.AdaptiveWindows(6, 7, 7)), "separate buffers");

        // L = 8, k = 3, stride 2: ceil_mode's 4 windows are not the 3 of floor mode, nor the reverse.
        using var eight = device.Zeros(2, 3, 8);
        using var four = device.Zeros(2, 3, 4);
        var ceil = Pool1dGeometry.Sliding(6, 8, 3, 2, 0, 1, countIncludePad: true, ceilMode: true);
        Assert.DoesNotThrow(() => Ops.AvgPool1d(eight, four, ceil));
        Refused(() => Ops.AvgPool1d(eight, four, ceil with { CeilMode = 0 }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool1d(eight, y, ceil), "[2, 3, 5]");
    }

    private static Pool1dGeometry Geometry(int n, int c, int l, int k, int stride, int padding, int dilation, bool count, bool ceil)
        => k == 0 ? Pool1dGeometry.AdaptiveWindows(n * c, l, stride) : Pool1dGeometry.Sliding(n * c, l, k, stride, padding, dilation, count, ceil);

    private static (double[] Y, int[] Argmax) ReferenceMax(Pool1dGeometry g, float[] x)
    {
        var y = new double[g.Rows * g.OutputLength];
        var argmax = new int[y.Length];
        ReferencePool.MaxForward(g, ToDouble(x), y, argmax);
        return (y, argmax);
    }

    private static void AssertWithinSumBound(float[] actual, double[] expected, double[] magnitude, int terms)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within((terms + 1) * U * magnitude[i]), $"element {i}");
        }
    }
}
