namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 batch normalization every BatchNorm kernel is checked against: readable, not fast. x is [N, C, L]
/// row-major (L = 1 for [N, C]); channel c's M = N·L values are x[n, c, l] over every n and l, as torch.nn.BatchNorm1d
/// reads them. The statistics are mean = Σx/M and the biased var = Σ(x − mean)²/M; the normalization is
/// y = (x − mean)/√(var + ε)·weight + bias with whichever statistics it is given (the batch's, or running ones). An empty
/// weight (or bias) span means none: the factor 1 (or the term 0).
/// </summary>
internal static class ReferenceBatchNorm
{
    /// <summary>Writes each channel's mean and biased variance [C].</summary>
    public static void Statistics(int n, int channels, int inner, ReadOnlySpan<double> x, Span<double> mean, Span<double> variance)
    {
        double count = (double)n * inner;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                for (int l = 0; l < inner; l++)
                {
                    sum += x[Index(i, c, l, channels, inner)];
                }
            }

            double m = sum / count;
            double squares = 0;
            for (int i = 0; i < n; i++)
            {
                for (int l = 0; l < inner; l++)
                {
                    double d = x[Index(i, c, l, channels, inner)] - m;
                    squares += d * d;
                }
            }

            mean[c] = m;
            variance[c] = squares / count;
        }
    }

    /// <summary>y = (x − mean)/√(var + ε)·weight + bias per channel.</summary>
    public static void Forward(
        int n, int channels, int inner, ReadOnlySpan<double> x, ReadOnlySpan<double> mean, ReadOnlySpan<double> variance, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, double epsilon, Span<double> y)
    {
        for (int e = 0; e < x.Length; e++)
        {
            int c = (e / inner) % channels;
            double normalized = (x[e] - mean[c]) / Math.Sqrt(variance[c] + epsilon);
            y[e] = (normalized * (weight.IsEmpty ? 1 : weight[c])) + (bias.IsEmpty ? 0 : bias[c]);
        }
    }

    /// <summary>
    /// The backward of <see cref="Forward"/> with x̂ = (x − mean)·rstd, rstd = 1/√(var + ε), and g = dy·weight: adds
    /// Σ dy·x̂ to dWeight and Σ dy to dBias per channel (each skipped when empty), and writes dx. With
    /// <paramref name="batchStatistics"/> the mean and variance are the batch's own, functions of x:
    /// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), the means over the channel's M values; without, they are constants
    /// (running statistics) and dx = rstd·g.
    /// </summary>
    public static void Backward(
        int n,
        int channels,
        int inner,
        ReadOnlySpan<double> x,
        ReadOnlySpan<double> mean,
        ReadOnlySpan<double> variance,
        ReadOnlySpan<double> weight,
        double epsilon,
        ReadOnlySpan<double> dy,
        Span<double> dx,
        Span<double> dWeight,
        Span<double> dBias,
        bool batchStatistics)
    {
        double count = (double)n * inner;
        for (int c = 0; c < channels; c++)
        {
            double rstd = 1 / Math.Sqrt(variance[c] + epsilon);
            double w = weight.IsEmpty ? 1 : weight[c];
            double sumDy = 0, sumDyX = 0;
            for (int i = 0; i < n; i++)
            {
                for (int l = 0; l < inner; l++)
                {
                    int e = Index(i, c, l, channels, inner);
                    sumDy += dy[e];
                    sumDyX += dy[e] * (x[e] - mean[c]) * rstd;
                }
            }

            if (!dWeight.IsEmpty)
            {
                dWeight[c] += sumDyX;
            }

            if (!dBias.IsEmpty)
            {
                dBias[c] += sumDy;
            }

            for (int i = 0; i < n; i++)
            {
                for (int l = 0; l < inner; l++)
                {
                    int e = Index(i, c, l, channels, inner);
                    double normalized = (x[e] - mean[c]) * rstd;
                    double g = dy[e] * w;
                    dx[e] = batchStatistics ? rstd * (g - (w * sumDy / count) - (normalized * w * sumDyX / count)) : rstd * g;
                }
            }
        }
    }

    private static int Index(int i, int c, int l, int channels, int inner) => (((i * channels) + c) * inner) + l;
}
