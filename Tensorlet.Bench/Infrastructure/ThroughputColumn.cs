using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Tensorlet.Bench.Infrastructure;

/// <summary>
/// A BenchmarkDotNet column that turns the mean time into a rate, such as GFLOP/s or characters/s.
/// <paramref name="workPerInvocation"/> gives the work one invocation does (in the column's unit × seconds),
/// read from the case's parameters, e.g. <c>bc => 2.0 * M * N * K / 1e9</c> for GFLOP/s.
/// </summary>
public sealed class ThroughputColumn(string name, Func<BenchmarkCase, double> workPerInvocation) : IColumn
{
    /// <inheritdoc/>
    public string Id => nameof(ThroughputColumn) + "." + ColumnName;

    /// <inheritdoc/>
    public string ColumnName { get; } = name;

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => 0;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => $"{ColumnName}: work per invocation divided by the mean time";

    /// <summary>Reads an integer benchmark parameter by name.</summary>
    public static int Parameter(BenchmarkCase benchmarkCase, string parameterName)
        => Convert.ToInt32(benchmarkCase.Parameters[parameterName], System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        var meanNs = report?.ResultStatistics?.Mean;
        if (meanNs is null or <= 0)
        {
            return "NA";
        }

        double rate = workPerInvocation(benchmarkCase) / (meanNs.Value * 1e-9);
        return rate.ToString(rate >= 100 ? "F0" : "F2", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
