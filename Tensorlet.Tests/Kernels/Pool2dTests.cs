using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;
using static Tensorlet.Tests.Kernels.Pool1dTests;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The 2-d max and average poolings and their backwards on every device against the float64 reference, as
/// <see cref="Pool1dTests"/> checks the 1-d ones (the same kernels, over planes of height 1): a max equals the reference
/// exactly, output and argmax (h·W + w); an average and a backward are held to the bound of a float sum.
/// </summary>
public sealed class Pool2dTests
{
    // (N, C, H, W, k, stride, padding, dilation, count_include_pad, ceil_mode), each size (along H, along W), or k = (0, 0)
    // for adaptive windows with (H_out, W_out) = stride: one element; a square window; a non-square kernel with stride,
    // padding and dilation differing by axis; padding counted on one axis only by the divisor's shape (no pad count);
    // overlapping windows (stride 1); ceil mode past the end on both axes, its padding counted or not, and a window that
    // would start in the padding dropped along W; adaptive windows overlapping along H and tiling W; global pooling; more
    // outputs than positions.
    private static readonly (int N, int C, int H, int W, (int, int) K, (int, int) S, (int, int) P, (int, int) D, bool Count, bool Ceil)[] Geometries =
    [
        (1, 1, 1, 1, (1, 1), (1, 1), (0, 0), (1, 1), true, false),
        (2, 3, 6, 8, (2, 2), (2, 2), (0, 0), (1, 1), true, false),
        (2, 2, 9, 11, (3, 2), (2, 3), (1, 1), (2, 1), true, false),
        (2, 2, 7, 10, (2, 4), (2, 3), (1, 2), (1, 1), false, false),
        (1, 3, 5, 6, (2, 3), (1, 1), (0, 1), (1, 1), true, false),
        (2, 2, 8, 10, (3, 3), (2, 2), (1, 1), (1, 1), true, true),
        (2, 2, 8, 10, (3, 2), (2, 3), (1, 1), (1, 1), false, true),
        (1, 2, 7, 10, (2, 2), (2, 3), (1, 1), (1, 2), true, true),
        (2, 3, 7, 8, (0, 0), (3, 4), (0, 0), (1, 1), true, false),
        (2, 3, 5, 6, (0, 0), (1, 1), (0, 0), (1, 1), true, false),
        (1, 2, 3, 2, (0, 0), (5, 4), (0, 0), (1, 1), true, false),
    ];

    // The cpu device also splits the planes across threads.
    private static readonly (int N, int C, int H, int W, (int, int) K, (int, int) S, (int, int) P, (int, int) D, bool Count, bool Ceil)[] CpuGeometries =
        [(8, 16, 20, 18, (3, 3), (2, 2), (1, 1), (1, 2), true, false), (16, 8, 13, 11, (0, 0), (1, 1), (0, 0), (1, 1), true, false)];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from g in device == "cpu" ? Geometries.Concat(CpuGeometries) : Geometries
        select new TestCaseData(device, g.N, g.C, g.H, g.W, g.K, g.S, g.P, g.D, g.Count, g.Ceil)
            .SetArgDisplayNames(device, $"N={g.N}", $"C={g.C}", $"{g.H}×{g.W}", g.K == (0, 0) ? "adaptive" : $"k={g.K}", $"s={g.S}", $"p={g.P}", $"d={g.D}", g.Count ? "count pad" : "no pad count", g.Ceil ? "ceil" : "floor");

    [TestCaseSource(nameof(Cases))]
    public void MaxPoolAndItsArgmaxEqualTheReference(string deviceName, int n, int c, int h, int w, (int, int) k, (int, int) s, (int, int) p, (int, int) d, bool count, bool ceil)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n * c, h, w, k, s, p, d, count, ceil);
        var xData = Uniform(n * c * h * w, (n * 31) + (c * 7) + h + w);
        var (expected, expectedArgmax) = ReferenceMax(g, xData);

        using var x = device.FromArray(xData, n, c, h, w);
        using var y = device.FromArray(Enumerable.Repeat(float.NaN, expected.Length).ToArray(), n, c, g.Height.OutputLength, g.Width.OutputLength);
        using var argmax = device.IndexFromArray(Enumerable.Repeat(-7, expected.Length).ToArray(), expected.Length);
        Ops.MaxPool(x, y, argmax, g);

        Assert.That(y.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)));
        Assert.That(argmax.ToArray(), Is.EqualTo(expectedArgmax));
        Assert.That(argmax.Bound, Is.EqualTo((-1, (h * w) - 1)), "the host's bound on the argmax is the plane's positions or -1");
    }

    [TestCaseSource(nameof(Cases))]
    public void MaxPoolBackwardMatchesTheReference(string deviceName, int n, int c, int h, int w, (int, int) k, (int, int) s, (int, int) p, (int, int) d, bool count, bool ceil)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n * c, h, w, k, s, p, d, count, ceil);
        var (_, argmaxData) = ReferenceMax(g, Uniform(n * c * h * w, 3));
        var dyData = Uniform(g.Planes * g.OutputSize, 4);
        var expected = new double[n * c * h * w];
        var magnitude = new double[expected.Length];
        ReferencePool.MaxBackward(g, ToDouble(dyData), argmaxData, expected);
        ReferencePool.MaxBackward(g, Array.ConvertAll(dyData, v => Math.Abs((double)v)), argmaxData, magnitude);

        using var dy = device.FromArray(dyData, n, c, g.Height.OutputLength, g.Width.OutputLength);
        using var argmax = device.IndexFromArray(argmaxData, argmaxData.Length);
        using var dx = device.FromArray(Enumerable.Repeat(float.NaN, expected.Length).ToArray(), n, c, h, w);
        Ops.MaxPoolBackward(dy, argmax, dx, g);

        AssertWithinSumBound(dx.ToArray(), expected, magnitude, g.OutputSize);
    }

    [TestCaseSource(nameof(Cases))]
    public void AvgPoolAndItsBackwardMatchTheReference(string deviceName, int n, int c, int h, int w, (int, int) k, (int, int) s, (int, int) p, (int, int) d, bool count, bool ceil)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n * c, h, w, k, s, p, (1, 1), count, ceil);
        var xData = Uniform(n * c * h * w, (n * 37) + (c * 11) + h + w);
        var expected = new double[g.Planes * g.OutputSize];
        var magnitude = new double[expected.Length];
        ReferencePool.AvgForward(g, ToDouble(xData), expected);
        ReferencePool.AvgForward(g, Array.ConvertAll(xData, v => Math.Abs((double)v)), magnitude);

        using var x = device.FromArray(xData, n, c, h, w);
        using var y = device.FromArray(Enumerable.Repeat(float.NaN, expected.Length).ToArray(), n, c, g.Height.OutputLength, g.Width.OutputLength);
        Ops.AvgPool(x, y, g);
        AssertWithinSumBound(y.ToArray(), expected, magnitude, MaxTaps(g));

        var dyData = Uniform(expected.Length, 5);
        var gradient = new double[xData.Length];
        var gradientMagnitude = new double[xData.Length];
        ReferencePool.AvgBackward(g, ToDouble(dyData), gradient);
        ReferencePool.AvgBackward(g, Array.ConvertAll(dyData, v => Math.Abs((double)v)), gradientMagnitude);
        using var dy = device.FromArray(dyData, n, c, g.Height.OutputLength, g.Width.OutputLength);
        using var dx = device.FromArray(Enumerable.Repeat(float.NaN, xData.Length).ToArray(), n, c, h, w);
        Ops.AvgPoolBackward(dy, dx, g);
        AssertWithinSumBound(dx.ToArray(), gradient, gradientMagnitude, g.OutputSize);
    }

    /// <summary>
    /// The cpu loops at each register width the machine runs, on two threads, over plane counts around each width: the
    /// max and its argmax equal the reference's on planes full of ties, NaN, −∞ and signed zeros, the averages and the
    /// backwards are within the reference's bound, and every output and gradient has the bits of the planes run one at a
    /// time.
    /// </summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuLoopsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);
        foreach (int planes in new[] { 1, 3, 4, 7, 8, 9, 16, 17, 33, 301 })
        {
            foreach (var g in new[]
            {
                Geometry(planes, 7, 9, (3, 2), (2, 3), (1, 1), (2, 1), true, false),
                Geometry(planes, 8, 10, (3, 2), (2, 3), (1, 1), (1, 1), false, true),
                Geometry(planes, 7, 9, (0, 0), (3, 4), (0, 0), (1, 1), true, false),
            })
            {
                AssertCpuLoopsMatchTheReference(g, width, planes + g.InputSize);
            }
        }
    }

    // As PyTorch on the CPU: a NaN is the maximum of any window that holds it (the last NaN, row by row, where there are
    // two), ties go to the first position row by row, and padding is never the maximum.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void MaxPoolPropagatesNaNTakesTheFirstOfTiesRowByRowAndNeverAPaddedTap(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        float nan = float.NaN;
        float[] data =
        [
            1f, 7f, 2f, nan,
            7f, 3f, nan, 0f,
            -1f, -2f, 5f, 5f,
            -3f, -4f, 5f, 4f,
        ];
        var g = Geometry(1, 4, 4, (2, 2), (2, 2), (0, 0), (1, 1), true, false);
        using var x = device.FromArray(data, 1, 1, 4, 4);
        using var y = device.Zeros(1, 1, 2, 2);
        using var argmax = device.IndexZeros(4);
        Ops.MaxPool(x, y, argmax, g);
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 7f, nan, -1f, 5f }));
        Assert.That(argmax.ToArray(), Is.EqualTo(new[] { 1, 6, 8, 10 }), "the first 7 (row 0), the last NaN (row 1), the first 5 (row 2)");
        Assert.That(argmax.ToArray(), Is.EqualTo(ReferenceMax(g, data).Argmax), "the reference agrees");

        // Padding 1 around a plane of −5s: every window holds a padded tap and a real one; the real one is the maximum.
        var padded = Geometry(1, 2, 2, (2, 2), (1, 1), (1, 1), (1, 1), true, false);
        using var negative = device.FromArray([-5f, -5f, -5f, -5f], 1, 1, 2, 2);
        using var nine = device.Zeros(1, 1, 3, 3);
        using var nineArgmax = device.IndexZeros(9);
        Ops.MaxPool(negative, nine, nineArgmax, padded);
        Assert.That(nine.ToArray(), Is.All.EqualTo(-5f));
        Assert.That(nineArgmax.ToArray(), Is.EqualTo(new[] { 0, 0, 1, 0, 0, 1, 2, 2, 3 }));
    }

    [Test]
    public void BadWindowsAndShapesAreRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.Zeros(2, 3, 6, 8);
        using var y = device.Zeros(2, 3, 3, 4);
        using var argmax = device.IndexZeros(72);
        var g = Geometry(6, 6, 8, (2, 2), (2, 2), (0, 0), (1, 1), true, false);
        Assert.DoesNotThrow(() => Ops.MaxPool(x, y, argmax, g));

        void Refused(TestDelegate call, string named)
        {
            var e = Assert.Throws<ArgumentException>(call)!;
            Assert.That(e.Message, Does.Contain(named).And.Not.Contain('\n'));
        }

        using var shortArgmax = device.IndexZeros(71);
        using var wrongHeight = device.Zeros(2, 3, 2, 4);
        using var rows = device.Zeros(6, 6, 8);
        Refused(() => Ops.MaxPool(x, y, shortArgmax, g), "argmax [71]");
        Refused(() => Ops.AvgPool(x, wrongHeight, g), "[2, 3, 2, 4]");
        Refused(() => Ops.AvgPool(rows, y, g), "pool [N, C, 6, 8] into [N, C, 3, 4]");
        Refused(() => Ops.AvgPoolBackward(y, wrongHeight, g), "[2, 3, 2, 4]");
        Refused(() => Ops.AvgPool(x, y, g with { Height = g.Height with { Padding = 2 } }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool(x, y, g with { Width = g.Width with { OutputLength = 3 } }), "are not the windows of a pooling");
        Refused(() => Ops.AvgPool(x, x, Geometry(6, 6, 8, (0, 0), (6, 8), (0, 0), (1, 1), true, false)), "separate buffers");
    }

    private static Pool2dGeometry Geometry(int planes, int h, int w, (int H, int W) k, (int H, int W) s, (int H, int W) p, (int H, int W) d, bool count, bool ceil)
        => k == (0, 0)
            ? new(planes, Pool1dGeometry.AdaptiveWindows(1, h, s.H), Pool1dGeometry.AdaptiveWindows(1, w, s.W))
            : new(planes, Pool1dGeometry.Sliding(1, h, k.H, s.H, p.H, d.H, count, ceil), Pool1dGeometry.Sliding(1, w, k.W, s.W, p.W, d.W, count, ceil));
}
