namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 layer normalization every LayerNorm kernel is checked against: readable, not fast. Over each row of
/// x [rows, D], as torch.nn.LayerNorm over the last dimension: mean = Σx/D, var = Σ(x − mean)²/D (biased),
/// rstd = 1/√(var + ε), x̂ = (x − mean)·rstd, y = x̂·weight + bias. An empty weight (or bias) span means none: the
/// factor 1 (or the term 0).
/// </summary>
internal static class ReferenceLayerNorm
{
    /// <summary>Writes y [rows, D] and each row's mean and rstd [rows].</summary>
    public static void Forward(
        int rows, int columns, ReadOnlySpan<double> x, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, double epsilon, Span<double> y, Span<double> mean, Span<double> rstd)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * columns, columns);
            double m = 0;
            foreach (var v in row)
            {
                m += v;
            }

            m /= columns;
            double variance = 0;
            foreach (var v in row)
            {
                variance += (v - m) * (v - m);
            }

            double s = 1 / Math.Sqrt((variance / columns) + epsilon);
            for (int j = 0; j < columns; j++)
            {
                double normalized = (row[j] - m) * s;
                y[(r * columns) + j] = (normalized * (weight.IsEmpty ? 1 : weight[j])) + (bias.IsEmpty ? 0 : bias[j]);
            }

            mean[r] = m;
            rstd[r] = s;
        }
    }

    /// <summary>
    /// From x, the forward's mean and rstd, and dy [rows, D]: writes dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with
    /// g = dy·weight, and adds Σ_rows dy·x̂ to dWeight and Σ_rows dy to dBias (each skipped when its span is empty).
    /// </summary>
    public static void Backward(
        int rows,
        int columns,
        ReadOnlySpan<double> x,
        ReadOnlySpan<double> mean,
        ReadOnlySpan<double> rstd,
        ReadOnlySpan<double> weight,
        ReadOnlySpan<double> dy,
        Span<double> dx,
        Span<double> dWeight,
        Span<double> dBias)
    {
        var normalized = new double[columns];
        var g = new double[columns];
        for (int r = 0; r < rows; r++)
        {
            double sumG = 0, sumGx = 0;
            for (int j = 0; j < columns; j++)
            {
                int e = (r * columns) + j;
                normalized[j] = (x[e] - mean[r]) * rstd[r];
                g[j] = dy[e] * (weight.IsEmpty ? 1 : weight[j]);
                sumG += g[j];
                sumGx += g[j] * normalized[j];
                if (!dWeight.IsEmpty)
                {
                    dWeight[j] += dy[e] * normalized[j];
                }

                if (!dBias.IsEmpty)
                {
                    dBias[j] += dy[e];
                }
            }

            for (int j = 0; j < columns; j++)
            {
                dx[(r * columns) + j] = rstd[r] * (g[j] - (sumG / columns) - (normalized[j] * sumGx / columns));
            }
        }
    }
}
