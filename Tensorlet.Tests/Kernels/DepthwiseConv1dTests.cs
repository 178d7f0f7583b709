using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The depthwise 1-d convolution and its backwards on every device against the float64 reference. Each output adds
/// the bias and at most k products, each input-gradient element at most m·k, and each weight-gradient element the
/// N·L_out products of its tap to the gradient it had, so every element is held to (terms + 1)·u·Σ|terms| (u the float32
/// rounding unit), the bound of a float sum (design.md, Tolerances).
/// </summary>
public sealed class DepthwiseConv1dTests
{
    // (N, C, m, L, k, stride, left and right padding, dilation, bias): one element; padding 1 each side; stride, padding
    // and dilation with two outputs per channel; a stride past the kernel (positions no tap reads); a kernel wider than
    // x, padded (every output checks its taps); L_out = 1; L_out = 0 (no output: dx is 0 and the gradients keep their
    // values); N = 0; an even kernel padded one more on the right ('same'); padding wider than the kernel reaches, three
    // outputs per channel.
    private static readonly (int N, int C, int M, int L, int K, int S, int P, int R, int D, bool Bias)[] Geometries =
    [
        (1, 1, 1, 1, 1, 1, 0, 0, 1, true), (2, 3, 1, 9, 3, 1, 1, 1, 1, true), (2, 3, 2, 11, 3, 2, 1, 1, 2, true),
        (3, 2, 1, 10, 2, 4, 0, 0, 3, false), (1, 2, 3, 4, 7, 1, 3, 3, 1, true), (2, 2, 1, 5, 7, 1, 1, 1, 1, true),
        (2, 2, 1, 3, 5, 1, 0, 0, 1, true), (0, 3, 2, 6, 3, 1, 1, 1, 1, true), (2, 3, 1, 8, 4, 1, 1, 2, 1, false),
        (2, 2, 3, 9, 3, 1, 4, 4, 2, true),
    ];

    // Several of the ilgpu weight gradient's blocks of BiasKernels.RowsPerBlock = 64 rows (n, t) per output channel,
    // blocks crossing samples: 150 rows (two full blocks and 22 rows), with bias; 126 rows with m = 2, stride,
    // dilation and padding, no bias; 132 rows with m = 3, stride 3 and dilation 3; 128 rows, exactly two blocks. A long
    // kernel takes longer blocks, 16·(k + 1) rows: 420 rows at k = 9 (two blocks of 160 and 100 rows), with bias; 260 at
    // k = 5 (two of 96 and 68), no bias.
    private static readonly (int N, int C, int M, int L, int K, int S, int P, int R, int D, bool Bias)[] BlockGeometries =
        [(3, 2, 1, 50, 3, 1, 1, 1, 1, true), (2, 3, 2, 130, 5, 2, 3, 1, 2, false), (11, 2, 3, 40, 4, 3, 2, 2, 3, true), (2, 2, 1, 64, 3, 1, 1, 1, 1, true),
         (3, 2, 1, 140, 9, 1, 4, 4, 1, true), (2, 2, 1, 130, 5, 1, 2, 2, 1, false)];

    // The cpu device also splits the rows and the channels across threads.
    private static readonly (int N, int C, int M, int L, int K, int S, int P, int R, int D, bool Bias)[] CpuGeometries =
        [(8, 16, 1, 300, 5, 1, 2, 2, 1, true), (4, 32, 2, 257, 3, 2, 1, 1, 1, true), (8, 64, 1, 100, 3, 1, 1, 1, 2, false)];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from g in Geometries.Concat(BlockGeometries).Concat(device == "cpu" ? CpuGeometries : [])
        select new TestCaseData(device, g.N, g.C, g.M, g.L, g.K, g.S, g.P, g.R, g.D, g.Bias)
            .SetArgDisplayNames(device, $"N={g.N}", $"C={g.C}", $"m={g.M}", $"L={g.L}", $"k={g.K}", $"s={g.S}", $"p={g.P},{g.R}", $"d={g.D}", g.Bias ? "bias" : "no bias");

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesTheReference(string deviceName, int n, int c, int m, int l, int k, int stride, int left, int right, int dilation, bool bias)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n, c, m, l, k, stride, left, right, dilation);
        var (xData, wData, bData) = (Uniform(n * c * l, l + k), Uniform(c * m * k, 2), bias ? Uniform(c * m, 3) : null);
        var expected = new double[n * c * m * g.Input.OutputLength];
        var magnitude = new double[expected.Length];
        ReferenceDepthwiseConv1d.Forward(g, ToDouble(xData), ToDouble(wData), bData is null ? null : ToDouble(bData), expected);
        ReferenceDepthwiseConv1d.Forward(g, Abs(xData), Abs(wData), bData is null ? null : Abs(bData), magnitude);

        using var x = device.FromArray(xData, n, c, l);
        using var w = device.FromArray(wData, c * m, 1, k);
        using var b = bData is null ? null : device.FromArray(bData, c * m);
        using var y = device.FromArray(Enumerable.Repeat(float.NaN, expected.Length).ToArray(), n, c * m, g.Input.OutputLength);
        Ops.DepthwiseConv1d(x, w, b, y, stride, left, right, dilation);

        AssertWithinSumBound(y.ToArray(), expected, magnitude, k + 1, "y");
    }

    [TestCaseSource(nameof(Cases))]
    public void BackwardInputMatchesTheReference(string deviceName, int n, int c, int m, int l, int k, int stride, int left, int right, int dilation, bool bias)
    {
        _ = bias;
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n, c, m, l, k, stride, left, right, dilation);
        var (dyData, wData) = (Uniform(n * c * m * g.Input.OutputLength, l + 7), Uniform(c * m * k, 4));
        var expected = new double[n * c * l];
        var magnitude = new double[expected.Length];
        ReferenceDepthwiseConv1d.BackwardInput(g, ToDouble(dyData), ToDouble(wData), expected);
        ReferenceDepthwiseConv1d.BackwardInput(g, Abs(dyData), Abs(wData), magnitude);

        using var dy = device.FromArray(dyData, n, c * m, g.Input.OutputLength);
        using var w = device.FromArray(wData, c * m, 1, k);
        using var dx = device.FromArray(Enumerable.Repeat(float.NaN, expected.Length).ToArray(), n, c, l);
        Ops.DepthwiseConv1dBackwardInput(dy, w, dx, stride, left, right, dilation);

        AssertWithinSumBound(dx.ToArray(), expected, magnitude, m * k, "dx");
    }

    [TestCaseSource(nameof(Cases))]
    public void BackwardWeightAccumulatesTheReference(string deviceName, int n, int c, int m, int l, int k, int stride, int left, int right, int dilation, bool bias)
    {
        var device = TestDevices.Get(deviceName);
        var g = Geometry(n, c, m, l, k, stride, left, right, dilation);
        var (xData, dyData) = (Uniform(n * c * l, l + 5), Uniform(n * c * m * g.Input.OutputLength, l + 6));
        var (dwStart, dbStart) = (Uniform(c * m * k, 8), Uniform(c * m, 9));
        var (expectedW, expectedB) = (ToDouble(dwStart), ToDouble(dbStart));
        var (magnitudeW, magnitudeB) = (Abs(dwStart), Abs(dbStart));
        ReferenceDepthwiseConv1d.BackwardWeight(g, ToDouble(xData), ToDouble(dyData), expectedW, expectedB);
        ReferenceDepthwiseConv1d.BackwardWeight(g, Abs(xData), Abs(dyData), magnitudeW, magnitudeB);

        using var x = device.FromArray(xData, n, c, l);
        using var dy = device.FromArray(dyData, n, c * m, g.Input.OutputLength);
        using var dw = device.FromArray(dwStart, c * m, 1, k);
        using var db = bias ? device.FromArray(dbStart, c * m) : null;
        Ops.DepthwiseConv1dBackwardWeight(x, dy, dw, db, stride, left, right, dilation);

        int terms = (n * g.Input.OutputLength) + 1;
        AssertWithinSumBound(dw.ToArray(), expectedW, magnitudeW, terms, "dW");
        if (db is not null)
        {
            AssertWithinSumBound(db.ToArray(), expectedB, magnitudeB, terms, "db");
        }
    }

    // The width-by-width test's geometries over rows of L: stride 1 with padding (a run of registers between checked
    // ends), dilated and unpadded, two outputs per channel with 'same' padding of an even kernel; and a stride of 2, taken
    // one position at a time at every width.
    private static readonly (int M, int K, int S, int P, int R, int D)[] WidthGeometries = [(1, 3, 1, 1, 1, 1), (1, 3, 1, 0, 0, 2), (2, 4, 1, 1, 2, 1), (1, 3, 2, 1, 1, 1)];

    /// <summary>
    /// The cpu loops at each register width the machine runs, on two threads, over rows around each width (L from 1 to
    /// past two registers of 16, and one long row): the forward and dx are within the reference's bound and have the bits
    /// of the loops run one position at a time; dW and db, whose sums over t run in registers, are within the bound.
    /// </summary>
    [TestCase("Vector512")]
    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void CpuLoopsMatchTheReferenceAtEveryWidth(string name)
    {
        var width = TestWidths.Supported(name);
        const int n = 3, c = 5;
        foreach (int l in new[] { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 2001 })
        {
            foreach (var (m, k, stride, left, right, dilation) in WidthGeometries)
            {
                var g = Geometry(n, c, m, l, k, stride, left, right, dilation);
                int outLength = g.Input.OutputLength;
                string what = $"{width}, {g}";
                var (x, w, b, dy) = (Uniform(n * c * l, l), Uniform(c * m * k, l + 1), Uniform(c * m, l + 2), Uniform(n * c * m * outLength, l + 3));
                var widths = new[] { width, CpuVectorWidth.Scalar };
                var y = Array.ConvertAll(widths, v => WrittenOverNaN(n * c * m * outLength, y => CpuDepthwiseConv1d.Forward(x, w, b, y, g, threads: 2, v)));
                var dx = Array.ConvertAll(widths, v => WrittenOverNaN(n * c * l, dx => CpuDepthwiseConv1d.BackwardInput(dy, w, dx, g, threads: 2, v)));
                var dw = new float[c * m * k];
                var db = new float[c * m];
                CpuDepthwiseConv1d.BackwardWeight(x, dy, dw, db, g, threads: 2, width);

                var (reference, magnitude) = (new double[y[0].Length], new double[y[0].Length]);
                ReferenceDepthwiseConv1d.Forward(g, ToDouble(x), ToDouble(w), ToDouble(b), reference);
                ReferenceDepthwiseConv1d.Forward(g, Abs(x), Abs(w), Abs(b), magnitude);
                AssertWithinSumBound(y[0], reference, magnitude, k + 1, $"y, {what}");

                (reference, magnitude) = (new double[dx[0].Length], new double[dx[0].Length]);
                ReferenceDepthwiseConv1d.BackwardInput(g, ToDouble(dy), ToDouble(w), reference);
                ReferenceDepthwiseConv1d.BackwardInput(g, Abs(dy), Abs(w), magnitude);
                AssertWithinSumBound(dx[0], reference, magnitude, m * k, $"dx, {what}");

                var (referenceW, referenceB, magnitudeW, magnitudeB) = (new double[dw.Length], new double[db.Length], new double[dw.Length], new double[db.Length]);
                ReferenceDepthwiseConv1d.BackwardWeight(g, ToDouble(x), ToDouble(dy), referenceW, referenceB);
                ReferenceDepthwiseConv1d.BackwardWeight(g, Abs(x), Abs(dy), magnitudeW, magnitudeB);
                AssertWithinSumBound(dw, referenceW, magnitudeW, n * outLength, $"dW, {what}");
                AssertWithinSumBound(db, referenceB, magnitudeB, n * outLength, $"db, {what}");

                AssertSameBits(y[0], y[1], $"y, {what}");
                AssertSameBits(dx[0], dx[1], $"dx, {what}");
            }
        }
    }

    [Test]
    public void BadShapesSizesAndSharedBuffersAreRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.Zeros(2, 3, 7);
        using var w = device.Zeros(6, 1, 3);
        using var b = device.Zeros(6);
        using var y = device.Zeros(2, 6, 5);
        Assert.DoesNotThrow(() => Ops.DepthwiseConv1d(x, w, b, y, 1, 0, 0, 1));

        void Refused<T>(TestDelegate call, string named)
            where T : ArgumentException
        {
            var e = Assert.Throws<T>(call)!;
            Assert.That(e.Message, Does.Contain(named).And.Not.Contain('\n'));
        }

        using var notMultiple = device.Zeros(4, 1, 3);
        using var twoPerGroup = device.Zeros(6, 2, 3);
        using var shortBias = device.Zeros(5);
        using var wrongLength = device.Zeros(2, 6, 4);
        Refused<ArgumentException>(() => Ops.DepthwiseConv1d(x, notMultiple, null, y, 1, 0, 0, 1), "weight [4, 1, 3]");
        Refused<ArgumentException>(() => Ops.DepthwiseConv1d(x, twoPerGroup, null, y, 1, 0, 0, 1), "weight [6, 2, 3]");
        Refused<ArgumentException>(() => Ops.DepthwiseConv1d(x, w, shortBias, y, 1, 0, 0, 1), "bias [5]");
        Refused<ArgumentException>(() => Ops.DepthwiseConv1d(x, w, b, wrongLength, 1, 0, 0, 1), "y [2, 6, 4]");
        Refused<ArgumentException>(() => Ops.DepthwiseConv1dBackwardInput(y, w, wrongLength, 1, 0, 0, 1), "x [2, 6, 4]");
        Refused<ArgumentOutOfRangeException>(() => Ops.DepthwiseConv1d(x, w, b, y, 0, 0, 0, 1), "stride");
        Refused<ArgumentOutOfRangeException>(() => Ops.DepthwiseConv1dBackwardWeight(x, y, w, b, 1, -1, 0, 1), "padding");
        Refused<ArgumentException>(() => Ops.DepthwiseConv1dBackwardWeight(x, y, w, w, 1, 0, 0, 1), "bias [6, 1, 3]");
        using var same = device.Zeros(2, 3, 7);
        using var one = device.Zeros(3, 1, 1);
        Refused<ArgumentException>(() => Ops.DepthwiseConv1dBackwardInput(same, one, same, 1, 0, 0, 1), "must not share the buffer");
    }

    private static DepthwiseConv1dGeometry Geometry(int n, int c, int m, int l, int k, int stride, int left, int right, int dilation)
        => new(new Conv1dGeometry(n, c, l, k, stride, left, right, dilation), m);

    private static double[] Abs(float[] values) => Array.ConvertAll(values, v => Math.Abs((double)v));
}
