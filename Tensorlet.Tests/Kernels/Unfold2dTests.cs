using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The 2-d convolution's unfold (im2col) and fold (col2im) on every device against the float64 reference, held as
/// <see cref="UnfoldTests"/> holds the 1-d ones: the unfold exactly, the fold to kH·kW·u·Σ|terms|.
/// </summary>
public sealed class Unfold2dTests
{
    private const double U = 5.97e-8;

    // (N, C, H, W, window): one element; the plain 3×3 case; a non-square kernel with stride, padding and dilation
    // different on each axis; a stride past the kernel (positions no tap reads); padding wider than the kernel reaches
    // (rows and columns of zeros); a kernel as large as the padded input (one output position); the 1×1 kernel; and
    // 'same' padding for even kernels (one more zero below and on the right).
    private static readonly (int N, int C, int H, int W, Conv2dWindow Window)[] Geometries =
    [
        (1, 1, 1, 1, new(1, 1, 1, 1, 0, 0, 0, 0, 1, 1)),
        (2, 3, 6, 7, new(3, 3, 1, 1, 0, 0, 0, 0, 1, 1)),
        (2, 2, 9, 8, new(3, 2, 2, 1, 1, 1, 2, 2, 2, 1)),
        (3, 2, 10, 7, new(2, 3, 4, 3, 0, 0, 1, 1, 3, 1)),
        (1, 2, 4, 3, new(3, 2, 1, 1, 3, 3, 2, 2, 2, 1)),
        (2, 2, 5, 4, new(7, 6, 1, 1, 1, 1, 1, 1, 1, 1)),
        (3, 5, 4, 6, new(1, 1, 1, 1, 0, 0, 0, 0, 1, 1)),
        (2, 3, 6, 5, new(4, 2, 1, 1, 1, 2, 1, 2, 1, 3)),
    ];

    // The cpu device also splits the rows across threads (more than 16384 elements); the fold splits one image's
    // channels into blocks when there are fewer images than twice the threads (the third).
    private static readonly (int N, int C, int H, int W, Conv2dWindow Window)[] CpuGeometries =
        [(4, 8, 30, 31, new(3, 5, 2, 1, 1, 1, 2, 2, 2, 1)), (4, 16, 20, 21, new(1, 1, 1, 1, 0, 0, 0, 0, 1, 1)), (1, 7, 30, 29, new(3, 3, 1, 1, 1, 1, 1, 1, 1, 1))];

    // A case names its geometry by its index in Geometries, then CpuGeometries (Conv2dWindow is internal).
    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from index in Enumerable.Range(0, Geometries.Length + (device == "cpu" ? CpuGeometries.Length : 0))
        let g = Geometry(index)
        select new TestCaseData(device, index).SetArgDisplayNames(device, $"N={g.N}", $"C={g.C}", $"H={g.H}", $"W={g.W}", g.Window.ToString());

    private static (int N, int C, int H, int W, Conv2dWindow Window) Geometry(int index)
        => index < Geometries.Length ? Geometries[index] : CpuGeometries[index - Geometries.Length];

    [TestCaseSource(nameof(Cases))]
    public void UnfoldEqualsTheReference(string deviceName, int geometry)
    {
        var device = TestDevices.Get(deviceName);
        var (n, c, h, w, window) = Geometry(geometry);
        var g = new Conv2dGeometry(n, c, h, w, window);
        var xData = Uniform(n * c * h * w, (n * 31) + (c * 7) + h + w);
        var expected = new double[g.Rows * g.RowLength];
        ReferenceUnfold2d.Unfold(g, ToDouble(xData), expected);

        using var x = device.FromArray(xData, n, c, h, w);
        using var columns = device.FromArray(Enumerable.Repeat(float.NaN, g.Rows * g.RowLength).ToArray(), g.Rows, g.RowLength);
        Ops.Unfold2d(x, columns, window);

        Assert.That(columns.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)), "every element written, padding as 0");
    }

    [TestCaseSource(nameof(Cases))]
    public void FoldMatchesTheReference(string deviceName, int geometry)
    {
        var device = TestDevices.Get(deviceName);
        var (n, c, h, w, window) = Geometry(geometry);
        var g = new Conv2dGeometry(n, c, h, w, window);
        var columnsData = Uniform(g.Rows * g.RowLength, (n * 37) + (c * 11) + h + w);
        var expected = new double[n * c * h * w];
        var magnitude = new double[n * c * h * w];
        ReferenceUnfold2d.Fold(g, ToDouble(columnsData), expected);
        ReferenceUnfold2d.Fold(g, Array.ConvertAll(columnsData, v => Math.Abs((double)v)), magnitude);

        using var columns = device.FromArray(columnsData, g.Rows, g.RowLength);
        using var x = device.FromArray(Enumerable.Repeat(float.NaN, n * c * h * w).ToArray(), n, c, h, w);
        Ops.Fold2d(columns, x, window);

        var actual = x.ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(window.Taps * U * magnitude[i]), $"x[{i}]");
        }

        Assert.That(columns.ToArray(), Is.EqualTo(columnsData), "columns must not be touched");
    }

    /// <summary>The cpu fold sums each element's terms in the ILGPU fold's order, the taps (i, j) from last to first, so the two give the same bits.</summary>
    [Test]
    public void TheCpuFoldGivesTheIlgpuFoldsBits()
    {
        var cpu = TestDevices.Get("cpu");
        var ilgpu = TestDevices.Get("ilgpu-cpu");
        foreach (var (n, c, h, w, window) in Geometries.Concat(CpuGeometries))
        {
            var g = new Conv2dGeometry(n, c, h, w, window);
            var columnsData = Uniform(g.Rows * g.RowLength, (n * 41) + (c * 13) + h + w);
            float[] Fold(Device device)
            {
                using var columns = device.FromArray(columnsData, g.Rows, g.RowLength);
                using var x = device.FromArray(Enumerable.Repeat(float.NaN, n * c * h * w).ToArray(), n, c, h, w);
                Ops.Fold2d(columns, x, window);
                return x.ToArray();
            }

            columnsData[0] = -0f; // a term of −0, summed from 0, is +0 on both
            Assert.That(Array.ConvertAll(Fold(cpu), BitConverter.SingleToInt32Bits), Is.EqualTo(Array.ConvertAll(Fold(ilgpu), BitConverter.SingleToInt32Bits)), g.ToString());
        }
    }

    // A 2-d unfold with a kernel one row high over an input one row high is the 1-d unfold along the width.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void OneRowIsTheOneDimensionalUnfold(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var data = Uniform(2 * 3 * 9, 4);
        var g = new Conv1dGeometry(2, 3, 9, 3, 2, 1, 2, 2);
        using var x = device.FromArray(data, 2, 3, 1, 9);
        using var flat = device.FromArray(data, 2, 3, 9);
        using var columns = device.Zeros(g.Rows, g.Width);
        using var expected = device.Zeros(g.Rows, g.Width);
        Ops.Unfold2d(x, columns, new Conv2dWindow(1, 3, 1, 2, 0, 0, 1, 2, 1, 2));
        Ops.Unfold1d(flat, expected, 3, 2, 1, 2, 2);
        Assert.That(columns.ToArray(), Is.EqualTo(expected.ToArray()));
    }

    // The fold is the unfold's adjoint, ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩, which is what makes it the input gradient.
    [Test]
    public void TheReferenceFoldIsTheAdjointOfTheReferenceUnfold()
    {
        foreach (var (n, c, h, w, window) in Geometries.Concat(CpuGeometries))
        {
            var g = new Conv2dGeometry(n, c, h, w, window);
            var x = ToDouble(Uniform(n * c * h * w, 1));
            var columns = ToDouble(Uniform(g.Rows * g.RowLength, 2));
            var unfolded = new double[columns.Length];
            var folded = new double[x.Length];
            ReferenceUnfold2d.Unfold(g, x, unfolded);
            ReferenceUnfold2d.Fold(g, columns, folded);
            double left = unfolded.Zip(columns, (a, b) => a * b).Sum();
            double right = x.Zip(folded, (a, b) => a * b).Sum();
            Assert.That(left, Is.EqualTo(right).Within(1e-9 * (1 + Math.Abs(left))), g.ToString());
        }
    }

    [Test]
    public void BadGeometriesAndShapesAreRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.Zeros(2, 3, 5, 4);
        using var columns = device.Zeros(2 * 3 * 2, 3 * 3 * 3);
        using var matrix = device.Zeros(6, 5);
        var window = new Conv2dWindow(3, 3, 1, 1, 0, 0, 0, 0, 1, 1);
        Assert.DoesNotThrow(() => Ops.Unfold2d(x, columns, window));

        void Refused<TException>(TestDelegate call, string named)
            where TException : Exception
        {
            var e = Assert.Throws<TException>(call)!;
            Assert.That(e.Message, Does.Contain(named).And.Not.Contain('\n'));
        }

        Refused<ArgumentOutOfRangeException>(() => Ops.Unfold2d(x, columns, window with { KernelWidth = 0 }), "kernelSize");
        Refused<ArgumentOutOfRangeException>(() => Ops.Unfold2d(x, columns, window with { StrideHeight = 0 }), "stride");
        Refused<ArgumentOutOfRangeException>(() => Ops.Fold2d(columns, x, window with { PaddingBottom = -1 }), "padding");
        Refused<ArgumentOutOfRangeException>(() => Ops.Fold2d(columns, x, window with { DilationWidth = 0 }), "dilation");
        Refused<ArgumentException>(() => Ops.Unfold2d(matrix, columns, window), "[6, 5]");
        Refused<ArgumentException>(() => Ops.Unfold2d(x, columns, window with { DilationWidth = 2 }), "spans 3×5 positions");
        Refused<ArgumentException>(() => Ops.Fold2d(columns, x, window with { StrideHeight = 2 }), "[8, 27]");
        Refused<ArgumentException>(() => Ops.Unfold2d(x, x.Reshape(40, 3), window with { KernelHeight = 1, KernelWidth = 1 }), "separate buffers");
    }
}
