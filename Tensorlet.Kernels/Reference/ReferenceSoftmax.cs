namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 row softmax, cross-entropy, temperature softmax, log-softmax and the backwards of the softmax and the
/// log-softmax that every softmax kernel is checked against: readable, not fast, and stable (each row is shifted by its
/// maximum before exp).
/// </summary>
internal static class ReferenceSoftmax
{
    /// <summary>
    /// losses[r] = log Σ_k e^(x[r,k]) − x[r, targets[r]]; dLogits[r] = (softmax(x[r]) − onehot(targets[r]))·gradScale.
    /// A row whose target is <paramref name="ignoreIndex"/> has loss 0 and gradient softmax(x[r])·0, PyTorch's
    /// 0 − softmax·0: NaN where the softmax is (a NaN or +∞ logit), else 0.
    /// Throws <see cref="ArgumentOutOfRangeException"/> for another target outside [0, classes).
    /// </summary>
    public static void CrossEntropy(int rows, int classes, ReadOnlySpan<double> logits, ReadOnlySpan<int> targets, Span<double> losses, Span<double> dLogits, double gradScale, int? ignoreIndex = null)
    {
        var probabilities = new double[classes];
        for (int r = 0; r < rows; r++)
        {
            int target = targets[r];
            bool ignored = target == ignoreIndex;
            if (!ignored && (target < 0 || target >= classes))
            {
                throw new ArgumentOutOfRangeException(nameof(targets), $"Target {target} of row {r} is outside [0, {classes}).");
            }

            var row = logits.Slice(r * classes, classes);
            double logSumExp = LogSumExp(row);
            for (int k = 0; k < classes; k++)
            {
                probabilities[k] = Math.Exp(row[k] - logSumExp);
            }

            losses[r] = ignored ? 0 : logSumExp - row[target];
            for (int k = 0; k < classes; k++)
            {
                dLogits[(r * classes) + k] = ignored ? probabilities[k] * 0 : (probabilities[k] - (k == target ? 1 : 0)) * gradScale;
            }
        }
    }

    /// <summary>
    /// probabilities[r] = softmax(logits[r] / temperature), as softmax((logits[r] − max) / temperature): the same
    /// numbers, but at a tiny temperature x / T would be so large that adding log Σ to it loses everything.
    /// </summary>
    public static void WithTemperature(int rows, int classes, ReadOnlySpan<double> logits, Span<double> probabilities, double temperature)
    {
        var scaled = new double[classes];
        for (int r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * classes, classes);
            double max = double.NegativeInfinity;
            foreach (var x in row)
            {
                max = Math.Max(max, x);
            }

            for (int k = 0; k < classes; k++)
            {
                scaled[k] = (row[k] - max) / temperature;
            }

            double logSumExp = LogSumExp(scaled);
            for (int k = 0; k < classes; k++)
            {
                probabilities[(r * classes) + k] = Math.Exp(scaled[k] - logSumExp);
            }
        }
    }

    /// <summary>y[r] = log_softmax(x[r]) = x[r] − log Σ_k e^(x[r,k]).</summary>
    public static void LogSoftmax(int rows, int classes, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * classes, classes);
            double logSumExp = LogSumExp(row);
            for (int k = 0; k < classes; k++)
            {
                y[(r * classes) + k] = row[k] - logSumExp;
            }
        }
    }

    /// <summary>The softmax's backward from its output y: dx[r] = y[r] ⊙ (dy[r] − Σ_k dy[r,k]·y[r,k]).</summary>
    public static void SoftmaxBackward(int rows, int classes, ReadOnlySpan<double> y, ReadOnlySpan<double> dy, Span<double> dx)
    {
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < classes; k++)
            {
                s += dy[(r * classes) + k] * y[(r * classes) + k];
            }

            for (int k = 0; k < classes; k++)
            {
                dx[(r * classes) + k] = y[(r * classes) + k] * (dy[(r * classes) + k] - s);
            }
        }
    }

    /// <summary>The log-softmax's backward from its output y: dx[r] = dy[r] − e^y[r]·Σ_k dy[r,k].</summary>
    public static void LogSoftmaxBackward(int rows, int classes, ReadOnlySpan<double> y, ReadOnlySpan<double> dy, Span<double> dx)
    {
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int k = 0; k < classes; k++)
            {
                s += dy[(r * classes) + k];
            }

            for (int k = 0; k < classes; k++)
            {
                dx[(r * classes) + k] = dy[(r * classes) + k] - (Math.Exp(y[(r * classes) + k]) * s);
            }
        }
    }

    /// <summary>log Σ e^x, as max + log Σ e^(x − max) so nothing overflows.</summary>
    public static double LogSumExp(ReadOnlySpan<double> x)
    {
        double max = double.NegativeInfinity;
        foreach (var v in x)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (var v in x)
        {
            sum += Math.Exp(v - max);
        }

        return max + Math.Log(sum);
    }
}
