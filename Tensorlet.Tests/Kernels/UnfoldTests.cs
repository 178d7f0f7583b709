using NUnit.Framework;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The 1-d convolution's unfold (im2col) and fold (col2im) on every device against the float64 reference. The unfold
/// copies floats, so it must equal the reference exactly; the fold adds at most k floats per element, so each element is
/// held to k·u·Σ|terms| (u the float32 rounding unit), the bound of a float sum of k terms (design.md, Tolerances).
/// </summary>
public sealed class UnfoldTests
{
    private const double U = 5.97e-8;

    // (N, C, L, k, stride, left and right padding, dilation): one element; the plain case; stride, padding and dilation
    // together; a stride larger than the kernel (positions no tap reads); padding wider than the kernel reaches (rows of
    // zeros); a kernel as wide as the padded input (L_out = 1); the transposition (k = 1); then padding='same' for even
    // dilated kernels, one more zero on the right than on the left (k 4; k 2 at dilation 3; k 2, right only).
    private static readonly (int N, int C, int L, int K, int S, int P, int R, int D)[] Geometries =
        [(1, 1, 1, 1, 1, 0, 0, 1), (2, 3, 7, 3, 1, 0, 0, 1), (2, 3, 9, 3, 2, 1, 1, 2), (3, 2, 10, 2, 4, 0, 0, 3), (1, 2, 4, 3, 1, 3, 3, 2), (2, 2, 5, 7, 1, 1, 1, 1), (3, 5, 6, 1, 1, 0, 0, 1),
         (2, 3, 8, 4, 1, 1, 2, 1), (1, 2, 5, 2, 1, 1, 2, 3), (2, 2, 6, 2, 1, 0, 1, 1)];

    // The cpu device also splits the rows across threads (more than 16384 elements).
    private static readonly (int N, int C, int L, int K, int S, int P, int R, int D)[] CpuGeometries = [(8, 16, 300, 5, 2, 2, 2, 2), (4, 64, 257, 1, 1, 0, 0, 1), (8, 16, 300, 6, 1, 2, 3, 1)];

    private static IEnumerable<TestCaseData> Cases() =>
        from device in TestDevices.All
        from g in device == "cpu" ? Geometries.Concat(CpuGeometries) : Geometries
        select new TestCaseData(device, g.N, g.C, g.L, g.K, g.S, g.P, g.R, g.D).SetArgDisplayNames(device, $"N={g.N}", $"C={g.C}", $"L={g.L}", $"k={g.K}", $"s={g.S}", $"p={g.P},{g.R}", $"d={g.D}");

    [TestCaseSource(nameof(Cases))]
    public void UnfoldEqualsTheReference(string deviceName, int n, int c, int l, int k, int stride, int padding, int paddingRight, int dilation)
    {
        var device = TestDevices.Get(deviceName);
        var g = new Conv1dGeometry(n, c, l, k, stride, padding, paddingRight, dilation);
        var xData = Uniform(n * c * l, (n * 31) + (c * 7) + l);
        var expected = new double[g.Rows * g.Width];
        ReferenceUnfold.Unfold(g, ToDouble(xData), expected);

        using var x = device.FromArray(xData, n, c, l);
        using var columns = device.FromArray(Enumerable.Repeat(float.NaN, g.Rows * g.Width).ToArray(), g.Rows, g.Width);
        Ops.Unfold1d(x, columns, k, stride, padding, paddingRight, dilation);

        Assert.That(columns.ToArray(), Is.EqualTo(Array.ConvertAll(expected, v => (float)v)), "every element written, padding as 0");
    }

    [TestCaseSource(nameof(Cases))]
    public void FoldMatchesTheReference(string deviceName, int n, int c, int l, int k, int stride, int padding, int paddingRight, int dilation)
    {
        var device = TestDevices.Get(deviceName);
        var g = new Conv1dGeometry(n, c, l, k, stride, padding, paddingRight, dilation);
        var columnsData = Uniform(g.Rows * g.Width, (n * 37) + (c * 11) + l);
        var expected = new double[n * c * l];
        var magnitude = new double[n * c * l];
        ReferenceUnfold.Fold(g, ToDouble(columnsData), expected);
        ReferenceUnfold.Fold(g, Array.ConvertAll(columnsData, v => Math.Abs((double)v)), magnitude);

        using var columns = device.FromArray(columnsData, g.Rows, g.Width);
        using var x = device.FromArray(Enumerable.Repeat(float.NaN, n * c * l).ToArray(), n, c, l);
        Ops.Fold1d(columns, x, k, stride, padding, paddingRight, dilation);

        var actual = x.ToArray();
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(k * U * magnitude[i]), $"x[{i}]");
        }

        Assert.That(columns.ToArray(), Is.EqualTo(columnsData), "columns must not be touched");
    }

    /// <summary>The cpu fold sums each position's terms in the ILGPU fold's order, j, so the two give the same bits.</summary>
    [Test]
    public void TheCpuFoldGivesTheIlgpuFoldsBits()
    {
        var cpu = TestDevices.Get("cpu");
        var ilgpu = TestDevices.Get("ilgpu-cpu");
        foreach (var (n, c, l, k, stride, padding, paddingRight, dilation) in Geometries)
        {
            var g = new Conv1dGeometry(n, c, l, k, stride, padding, paddingRight, dilation);
            var columnsData = Uniform(g.Rows * g.Width, (n * 41) + (c * 13) + l);
            float[] Fold(Device device)
            {
                using var columns = device.FromArray(columnsData, g.Rows, g.Width);
                using var x = device.FromArray(Enumerable.Repeat(float.NaN, n * c * l).ToArray(), n, c, l);
                Ops.Fold1d(columns, x, k, stride, padding, paddingRight, dilation);
                return x.ToArray();
            }

            columnsData[0] = -0f; // a term of −0, summed from 0, is +0 on both
            Assert.That(Array.ConvertAll(Fold(cpu), BitConverter.SingleToInt32Bits), Is.EqualTo(Array.ConvertAll(Fold(ilgpu), BitConverter.SingleToInt32Bits)), g.ToString());
        }
    }

    // With k = 1, stride 1, padding 0 and dilation 1 the fold is the inverse of the unfold: [N, C, L] → [N·L, C] → back.
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void TheTransposingFoldUndoesTheTransposingUnfold(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        var data = Uniform(3 * 4 * 5, 5);
        using var x = device.FromArray(data, 3, 4, 5);
        using var rows = device.Zeros(15, 4);
        using var back = device.Zeros(3, 4, 5);
        Ops.Unfold1d(x, rows, 1, 1, 0, 0, 1);
        Ops.Fold1d(rows, back, 1, 1, 0, 0, 1);
        Assert.That(rows.ToArray()[..4], Is.EqualTo(new[] { data[0], data[5], data[10], data[15] }), "row 0 is position 0 of every channel of sample 0");
        Assert.That(back.ToArray(), Is.EqualTo(data));
    }

    // The fold is the unfold's adjoint, ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩, which is what makes it the input gradient.
    [Test]
    public void TheReferenceFoldIsTheAdjointOfTheReferenceUnfold()
    {
        foreach (var (n, c, l, k, s, p, r, d) in Geometries.Concat(CpuGeometries))
        {
            var g = new Conv1dGeometry(n, c, l, k, s, p, r, d);
            var x = ToDouble(Uniform(n * c * l, 1));
            var columns = ToDouble(Uniform(g.Rows * g.Width, 2));
            var unfolded = new double[columns.Length];
            var folded = new double[x.Length];
            ReferenceUnfold.Unfold(g, x, unfolded);
            ReferenceUnfold.Fold(g, columns, folded);
            double left = unfolded.Zip(columns, (a, b) => a * b).Sum();
            double right = x.Zip(folded, (a, b) => a * b).Sum();
            Assert.That(left, Is.EqualTo(right).Within(1e-9 * (1 + Math.Abs(left))), g.ToString());
        }
    }

    [Test]
    public void BadGeometriesAndShapesAreRefusedInOneLine()
    {
        var device = TestDevices.Get("cpu");
        using var x = device.Zeros(2, 3, 5);
        using var columns = device.Zeros(2 * 3, 3 * 3);
        using var matrix = device.Zeros(6, 5);
        Assert.DoesNotThrow(() => Ops.Unfold1d(x, columns, 3, 1, 0, 0, 1));

        void Refused<TException>(TestDelegate call, string named)
            where TException : Exception
        {
            var e = Assert.Throws<TException>(call)!;
            Assert.That(e.Message, Does.Contain(named).And.Not.Contain('\n'));
        }

        Refused<ArgumentOutOfRangeException>(() => Ops.Unfold1d(x, columns, 0, 1, 0, 0, 1), "kernelSize");
        Refused<ArgumentOutOfRangeException>(() => Ops.Unfold1d(x, columns, 3, 0, 0, 0, 1), "stride");
        Refused<ArgumentOutOfRangeException>(() => Ops.Fold1d(columns, x, 3, 1, -1, 1, 1), "padding");
        Refused<ArgumentOutOfRangeException>(() => Ops.Unfold1d(x, columns, 3, 1, 0, -1, 1), "padding");
        Refused<ArgumentOutOfRangeException>(() => Ops.Fold1d(columns, x, 3, 1, 0, 0, 0), "dilation");
        Refused<ArgumentException>(() => Ops.Unfold1d(matrix, columns, 3, 1, 0, 0, 1), "[6, 5]");
        Refused<ArgumentException>(() => Ops.Unfold1d(x, columns, 4, 1, 0, 1, 2), "spans 7 positions");
        Refused<ArgumentException>(() => Ops.Fold1d(columns, x, 3, 2, 0, 0, 1), "[4, 9]");
        Refused<ArgumentException>(() => Ops.Unfold1d(x, x.Reshape(10, 3), 1, 1, 0, 0, 1), "separate buffers");
    }
}
