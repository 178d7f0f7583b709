using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>The tensor arithmetic between layers, the embedding gather and scatter, the gather of token ids, and the SGD step, on every device against the float64 reference.</summary>
public sealed class RowOpsTests
{
    // float32 rounding unit.
    private const double U = 5.97e-8;

    private static IEnumerable<TestCaseData> Matrices()
    {
        (int Rows, int Columns)[] small = [(1, 1), (7, 33), (127, 5), (3, 127), (130, 9)];
        (int Rows, int Columns)[] large = [(2475, 1024), (5000, 7), (2, 40000)];
        foreach (var device in TestDevices.All)
        {
            foreach (var (rows, columns) in device == "cpu" ? small.Concat(large) : small)
            {
                yield return new TestCaseData(device, rows, columns);
            }
        }
    }

    [TestCaseSource(nameof(Matrices))]
    public void AddMultiplyAndScaleMatchTheReference(string deviceName, int rows, int columns)
    {
        var device = TestDevices.Get(deviceName);
        var a = Uniform(rows * columns, rows + columns);
        var b = Uniform(rows * columns, rows * columns + 1, -3f, 3f);
        using var ta = device.FromArray(a, rows, columns);
        using var tb = device.FromArray(b, rows, columns);
        using var y = device.Zeros(rows, columns);

        var sum = new double[a.Length];
        ReferenceRows.Add(ToDouble(a), ToDouble(b), sum, 1);
        Ops.Add(ta, tb, y);
        AssertClose(y.ToArray(), sum, 4 * U, U, "a + b");

        var axpy = new double[a.Length];
        ReferenceRows.Add(ToDouble(a), ToDouble(b), axpy, -0.75);
        Ops.Add(ta, tb, y, -0.75f);
        AssertClose(y.ToArray(), axpy, 8 * U, 2 * U, "a − 0.75·b");

        var product = new double[a.Length];
        ReferenceRows.Multiply(ToDouble(a), ToDouble(b), product);
        Ops.Multiply(ta, tb, y);
        AssertClose(y.ToArray(), product, 0, U, "a·b");

        Ops.Scale(tb, y, 0.3f);
        AssertClose(y.ToArray(), Array.ConvertAll(b, v => (double)(0.3f * v)), 0, 0, "0.3·b into y");
        Assert.That(tb.ToArray(), Is.EqualTo(b), "Scale into y leaves x");
    }

    [TestCaseSource(nameof(Matrices))]
    public void ScaleRowsAndArgmaxMatchTheReference(string deviceName, int rows, int columns)
    {
        var device = TestDevices.Get(deviceName);
        var x = Uniform(rows * columns, 3 * rows + columns);
        var scale = Uniform(rows, rows, -2f, 2f);
        using var tx = device.FromArray(x, rows, columns);
        using var ts = device.FromArray(scale, rows);
        using var argmax = device.IndexZeros(rows);
        Ops.ArgmaxRows(tx, argmax);
        Assert.That(argmax.ToArray(), Is.EqualTo(ReferenceRows.Argmax(ToDouble(x), rows, columns)), "argmax");

        var expected = ToDouble(x);
        ReferenceRows.ScaleRows(expected, ToDouble(scale));
        Ops.ScaleRows(tx, ts);
        AssertClose(tx.ToArray(), expected, 0, U, "scale rows");
    }

    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ArgmaxTakesTheFirstOfEqualMaximaAndStopsAtNaN(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var x = device.FromArray([1f, 3f, 3f, 0f, -1f, float.NaN, 5f, float.NaN], 2, 4);
        using var result = device.IndexZeros(2);
        Ops.ArgmaxRows(x, result);
        Assert.That(result.ToArray(), Is.EqualTo(new[] { 1, 1 }));
    }

    [TestCaseSource(nameof(Tables))]
    public void GatherRowsAndScatterAddRowsMatchTheReference(string deviceName, int n, int rows, int columns)
    {
        var device = TestDevices.Get(deviceName);
        var random = new Random(n + rows);
        var indices = Enumerable.Range(0, n).Select(_ => random.Next(rows)).ToArray();
        var table = Uniform(rows * columns, columns);
        var dy = Uniform(n * columns, n);
        var start = Uniform(rows * columns, 11);
        using var tTable = device.FromArray(table, rows, columns);
        using var tIndices = device.IndexFromArray(indices, n);
        using var output = device.Zeros(n, columns);
        Ops.GatherRows(tTable, tIndices, output);
        var expected = new double[n * columns];
        ReferenceRows.GatherRows(ToDouble(table), columns, indices, expected);
        AssertClose(output.ToArray(), expected, 0, 0, "gather");

        using var tDy = device.FromArray(dy, n, columns);
        using var grad = device.FromArray(start, rows, columns);
        Ops.ScatterAddRows(tDy, tIndices, grad);
        var expectedGrad = ToDouble(start);
        ReferenceRows.ScatterAddRows(ToDouble(dy), indices, expectedGrad, columns);

        // Each element sums its repeats in float: about one rounding per add, |terms| ≤ 1.
        AssertClose(grad.ToArray(), expectedGrad, 2 * n * U, 2 * U, "scatter-add");

        // nn.Embedding's padding_idx: the rows of dy whose index is the skipped row add nothing, so it keeps its values.
        int skipRow = indices[0];
        using var skipped = device.FromArray(start, rows, columns);
        Ops.ScatterAddRows(tDy, tIndices, skipped, skipRow);
        var expectedSkipped = ToDouble(start);
        ReferenceRows.ScatterAddRows(ToDouble(dy), indices, expectedSkipped, columns, skipRow);
        var skippedValues = skipped.ToArray();
        AssertClose(skippedValues, expectedSkipped, 2 * n * U, 2 * U, "scatter-add skipping a row");
        Assert.That(skippedValues.Skip(skipRow * columns).Take(columns), Is.EqualTo(start.Skip(skipRow * columns).Take(columns)), "the skipped row keeps its values");
        var badSkip = Assert.Throws<ArgumentOutOfRangeException>(() => Ops.ScatterAddRows(tDy, tIndices, skipped, rows));
        Assert.That(badSkip!.Message, Does.Contain($"{rows}").And.Contain($"[0, {rows})"));
        Assert.That(skipped.ToArray(), Is.EqualTo(skippedValues), "a refused row to skip writes nothing");

        using var bad = device.IndexFromArray([0, rows], 2);
        using var badOutput = device.Zeros(2, columns);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.GatherRows(tTable, bad, badOutput));
    }

    [TestCaseSource(nameof(IndexGathers))]
    public void GatherIndicesMatchesTheReferenceAndCarriesTheSourceBound(string deviceName, int n, int length)
    {
        var device = TestDevices.Get(deviceName);
        var random = new Random(n + length);
        var source = Enumerable.Range(0, length).Select(_ => random.Next(-5, 1000)).ToArray();
        var positions = Enumerable.Range(0, n).Select(_ => random.Next(length)).ToArray();
        using var tSource = device.IndexFromArray(source, length);
        using var tPositions = device.IndexFromArray(positions, n);
        using var output = device.IndexZeros(n);
        Ops.GatherIndices(tSource, tPositions, output);
        var expected = new int[n];
        ReferenceRows.GatherIndices(source, positions, expected);
        Assert.That(output.ToArray(), Is.EqualTo(expected), "gather");
        Assert.That(output.Bound, Is.EqualTo(tSource.Bound), "the output's bound is the source's: later gathers check ids without reading them back");

        using var bad = device.IndexFromArray([0, length], 2);
        using var badOutput = device.IndexFromArray([7, 7], 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ops.GatherIndices(tSource, bad, badOutput));
        Assert.That(badOutput.ToArray(), Is.EqualTo(new[] { 7, 7 }), "a refused gather writes nothing");
        Assert.Throws<ArgumentException>(() => Ops.GatherIndices(tSource, tPositions, tSource), "the output may not be the source");
    }

    [TestCaseSource(nameof(SgdCases))]
    public void SgdStepMatchesTheReferenceOverThreeSteps(string deviceName, float momentum, float dampening, float weightDecay, bool nesterov)
    {
        var device = TestDevices.Get(deviceName);
        int n = 1000;
        var p = Uniform(n, 1);
        using var tp = device.FromArray(p, n);
        using var tg = device.Zeros(n);
        using var buffer = device.Zeros(n);
        var expected = ToDouble(p);
        double[]? referenceBuffer = null;
        for (int step = 1; step <= 3; step++)
        {
            var g = Uniform(n, 10 + step);
            tg.CopyFrom(g);
            Ops.SgdStep(tp, tg, buffer, 0.1f, momentum, dampening, weightDecay, nesterov, firstStep: step == 1);
            ReferenceRows.SgdStep(expected, ToDouble(g), ref referenceBuffer, 0.1f, momentum, dampening, weightDecay, nesterov);
        }

        AssertClose(tp.ToArray(), expected, 1e-6, 1e-6, "parameters after 3 SGD steps");
    }

    private static IEnumerable<TestCaseData> Tables()
    {
        (int N, int Rows, int Columns)[] shapes = [(1, 1, 1), (7, 3, 33), (300, 11, 17), (40, 100, 5)];
        foreach (var device in TestDevices.All)
        {
            foreach (var (n, rows, columns) in device == "cpu" ? shapes.Append((5000, 64, 256)) : shapes)
            {
                yield return new TestCaseData(device, n, rows, columns);
            }
        }
    }

    private static IEnumerable<TestCaseData> IndexGathers()
    {
        (int N, int Length)[] shapes = [(1, 1), (12, 12), (300, 7), (5, 4000)];
        foreach (var device in TestDevices.All)
        {
            foreach (var (n, length) in device == "cpu" ? shapes.Append((100_000, 65_536)) : shapes)
            {
                yield return new TestCaseData(device, n, length);
            }
        }
    }

    private static IEnumerable<TestCaseData> SgdCases()
    {
        foreach (var device in TestDevices.All)
        {
            yield return new TestCaseData(device, 0f, 0f, 0f, false);
            yield return new TestCaseData(device, 0f, 0f, 0.01f, false);
            yield return new TestCaseData(device, 0.9f, 0.3f, 0f, false);
            yield return new TestCaseData(device, 0.9f, 0f, 0.01f, true);
        }
    }
}
