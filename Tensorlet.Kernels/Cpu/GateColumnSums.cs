namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The bias gradients of a recurrence, summed as its backward writes each step's d(pre): a member's rows of one step go
/// into its own short sums while they are still in cache, and those are added to the whole sequence's total once per
/// step. That saves a pass over d(pre) (40 MB per layer for the LSTM at 2×256), and two sums of B and of T terms are
/// more accurate than one of T·B.
/// </summary>
internal static unsafe class GateColumnSums
{
    /// <summary>
    /// sums[g·units + u] = row[g·H + u] when <paramref name="first"/>, else sums[g·units + u] += row[g·H + u], for the
    /// <paramref name="gates"/> gate blocks of H columns each, of which the member owns <paramref name="units"/> (row and
    /// the gate blocks start at its first unit).
    /// </summary>
    public static void AddRow(float* row, Span<float> sums, bool first, int gates, int units, int hiddenSize)
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
                CpuElementwise.Binary(target, source, target, default(AddOperator));
            }
        }
    }

    /// <summary>total[g·H + u] += sums[g·units + u]: a step's sums into the sequence's, laid out as <see cref="AddRow"/>'s row.</summary>
    public static void AddTo(ReadOnlySpan<float> sums, float* total, int gates, int units, int hiddenSize)
    {
        for (int g = 0; g < gates; g++)
        {
            var target = new Span<float>(total + ((long)g * hiddenSize), units);
            CpuElementwise.Binary(target, sums.Slice(g * units, units), target, default(AddOperator));
        }
    }
}
