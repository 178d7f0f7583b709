namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The bias gradients of a recurrence, summed as its backward writes each step's d(pre): each panel of
/// <see cref="PanelRows"/> batch rows of a step goes into a short sum while it is still in cache, that is added to the
/// panel's total over the steps, and the panels' totals are added in order at the end (<see cref="Fold"/>). That saves
/// a pass over d(pre) (40 MB per layer for the LSTM at 2×256), sums of 8, T and B/8 terms are more accurate than one of
/// T·B, and the order of the additions depends on neither the thread count nor how the threads share the rows and the
/// units, so every schedule gives the same floats.
/// </summary>
internal static unsafe class GateColumnSums
{
    /// <summary>The batch rows of a panel: a gang that splits the batch gives each member whole panels.</summary>
    public const int PanelRows = 8;

    /// <summary>The panels of <paramref name="batch"/> rows (the last may be short).</summary>
    public static int Panels(int batch) => (batch + PanelRows - 1) / PanelRows;

    /// <summary>Whether row <paramref name="b"/> ends its panel, so its panel's sum goes into the panel's total.</summary>
    private static bool EndsPanel(int b, int batch) => b % PanelRows == PanelRows - 1 || b == batch - 1;

    /// <summary>
    /// Rents the panels' totals for one backward: <see cref="Panels"/> rows of <paramref name="columns"/> floats, zeroed,
    /// which <see cref="Fold"/> turns into the bias gradient.
    /// </summary>
    public static CpuScratch.Rental RentTotals(int batch, int columns)
    {
        var totals = CpuScratch.Rent((long)Panels(batch) * columns);
        new Span<float>(totals.Pointer, Panels(batch) * columns).Clear();
        return totals;
    }

    /// <summary>bias[j] = the sum over panels p, in order, of totals[p·columns + j], at most <paramref name="width"/> wide.</summary>
    public static void Fold(float* totals, int batch, int columns, float* bias, CpuVectorWidth width)
    {
        var target = new Span<float>(bias, columns);
        new ReadOnlySpan<float>(totals, columns).CopyTo(target);
        for (int p = 1; p < Panels(batch); p++)
        {
            CpuElementwise.Binary(target, new ReadOnlySpan<float>(totals + ((long)p * columns), columns), target, default(AddOperator), width);
        }
    }

    /// <summary>
    /// Adds batch row <paramref name="b"/> of a step's gate gradients (<paramref name="row"/>, laid out as
    /// <see cref="AddRow"/>'s) to its panel's short sum in <paramref name="sums"/>, and, when the row ends its panel, that
    /// sum to the panel's total in <paramref name="totals"/> (<see cref="RentTotals"/>' rows of gates·H floats), at the
    /// member's first unit <paramref name="firstUnit"/>, at most <paramref name="width"/> wide.
    /// </summary>
    public static void AddBatchRow(float* row, Span<float> sums, float* totals, int b, int batch, int gates, int units, int hiddenSize, int firstUnit, CpuVectorWidth width)
    {
        AddRow(row, sums, b % PanelRows == 0, gates, units, hiddenSize, width);
        if (EndsPanel(b, batch))
        {
            AddTo(sums, totals + ((long)(b / PanelRows) * gates * hiddenSize) + firstUnit, gates, units, hiddenSize, width);
        }
    }

    /// <summary>
    /// sums[g·units + u] = row[g·H + u] when <paramref name="first"/>, else sums[g·units + u] += row[g·H + u], for the
    /// <paramref name="gates"/> gate blocks of H columns each, of which the member owns <paramref name="units"/> (row and
    /// the gate blocks start at its first unit).
    /// </summary>
    private static void AddRow(float* row, Span<float> sums, bool first, int gates, int units, int hiddenSize, CpuVectorWidth width)
    {
        for (int g = 0; g < gates; g++)
        {
            var source = new ReadOnlySpan<float>(row + ((long)g * hiddenSize), units);
            var target = sums.Slice(g * units, units);
            if (first)
            {
                source.CopyTo(target);
            }
            else
            {
                CpuElementwise.Binary(target, source, target, default(AddOperator), width);
            }
        }
    }

    /// <summary>total[g·H + u] += sums[g·units + u]: a panel's sums of a step into its total, laid out as <see cref="AddRow"/>'s row.</summary>
    private static void AddTo(ReadOnlySpan<float> sums, float* total, int gates, int units, int hiddenSize, CpuVectorWidth width)
    {
        for (int g = 0; g < gates; g++)
        {
            var target = new Span<float>(total + ((long)g * hiddenSize), units);
            CpuElementwise.Binary(target, sums.Slice(g * units, units), target, default(AddOperator), width);
        }
    }
}
