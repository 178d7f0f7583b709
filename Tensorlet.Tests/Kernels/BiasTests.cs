using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.ElementwiseTestData;

namespace Tensorlet.Tests.Kernels;

public sealed class BiasTests
{
    private static IEnumerable<TestCaseData> Shapes()
    {
        (int Rows, int Columns)[] small = [(1, 1), (7, 33), (127, 5), (3, 127), (130, 9)];
        (int Rows, int Columns)[] large = [(9900 / 4, 1024), (5000, 7), (2, 40000)];
        foreach (var device in TestDevices.All)
        {
            foreach (var (rows, columns) in device == "cpu" ? small.Concat(large) : small)
            {
                yield return new TestCaseData(device, rows, columns);
            }
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void FillRowsMatchesTheReference(string deviceName, int rows, int columns)
    {
        var device = TestDevices.Get(deviceName);
        var rowData = Uniform(columns, columns + 1, -2f, 2f);
        var expected = new double[rows * columns];
        ReferenceBias.FillRows(expected, ToDouble(rowData));

        // The old contents must not show through: x starts as NaN.
        using var x = device.FromArray(Enumerable.Repeat(float.NaN, rows * columns).ToArray(), rows, columns);
        using var row = device.FromArray(rowData, columns);
        Ops.FillRows(x, row);

        // A copy: exactly the row's floats.
        Assert.That(x.ToArray().Select(v => (double)v), Is.EqualTo(expected), $"FillRows [{rows}, {columns}]");
    }

    [TestCaseSource(nameof(Shapes))]
    public void AddBiasMatchesTheReference(string deviceName, int rows, int columns)
    {
        var device = TestDevices.Get(deviceName);
        var xData = Uniform(rows * columns, rows + columns);
        var biasData = Uniform(columns, columns, -2f, 2f);
        var expected = ToDouble(xData);
        ReferenceBias.AddBias(expected, ToDouble(biasData));

        using var x = device.FromArray(xData, rows, columns);
        using var bias = device.FromArray(biasData, columns);
        Ops.AddBias(x, bias);

        // One float addition, correctly rounded: within half an ulp of the result, 6e-8 relative; the absolute
        // term covers results that cancel to near 0 (half an ulp of the larger operand, |operands| < 3).
        AssertClose(x.ToArray(), expected, 2e-7, 6e-8, $"AddBias [{rows}, {columns}]");
    }

    [TestCaseSource(nameof(Shapes))]
    public void SumColumnsMatchesTheReferenceAndAccumulates(string deviceName, int rows, int columns)
    {
        var device = TestDevices.Get(deviceName);
        var xData = Uniform(rows * columns, 7 * rows + columns);
        var initial = Uniform(columns, columns + 1);
        using var x = device.FromArray(xData, rows, columns);
        using var result = device.FromArray(initial, columns);

        // Both kernels add in double and round once to float: half an ulp, 6e-8 relative, plus the double rounding
        // of up to `rows` additions of terms below 1, far under 1e-9.
        var expected = new double[columns];
        ReferenceBias.SumColumns(ToDouble(xData), expected, accumulate: false);
        Ops.SumColumns(x, result, accumulate: false);
        AssertClose(result.ToArray(), expected, 1e-9, 6e-8, $"SumColumns [{rows}, {columns}]");

        var accumulated = ToDouble(result.ToArray());
        ReferenceBias.SumColumns(ToDouble(xData), accumulated, accumulate: true);
        Ops.SumColumns(x, result, accumulate: true);
        AssertClose(result.ToArray(), accumulated, 1e-9, 6e-8, $"SumColumns accumulating [{rows}, {columns}]");
    }
}
