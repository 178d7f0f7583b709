namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 bias fill, bias add and column sum.</summary>
internal static class ReferenceBias
{
    /// <summary>x[i, j] = row[j].</summary>
    public static void FillRows(Span<double> x, ReadOnlySpan<double> row)
    {
        for (int e = 0; e < x.Length; e++)
        {
            x[e] = row[e % row.Length];
        }
    }

    /// <summary>x[i, j] += bias[j].</summary>
    public static void AddBias(Span<double> x, ReadOnlySpan<double> bias)
    {
        for (int e = 0; e < x.Length; e++)
        {
            x[e] += bias[e % bias.Length];
        }
    }

    /// <summary>result[j] = (accumulate ? result[j] : 0) + Σ_i x[i, j].</summary>
    public static void SumColumns(ReadOnlySpan<double> x, Span<double> result, bool accumulate)
    {
        int columns = result.Length;
        for (int j = 0; j < columns; j++)
        {
            double sum = 0;
            for (int i = 0; i < x.Length / columns; i++)
            {
                sum += x[(i * columns) + j];
            }

            result[j] = (accumulate ? result[j] : 0) + sum;
        }
    }

    /// <summary>Σ x².</summary>
    public static double SumOfSquares(ReadOnlySpan<double> x)
    {
        double sum = 0;
        foreach (var v in x)
        {
            sum += v * v;
        }

        return sum;
    }
}
