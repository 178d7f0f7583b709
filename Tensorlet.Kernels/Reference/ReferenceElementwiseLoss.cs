namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 elementwise losses (<see cref="ElementwiseLossKind"/>) every elementwise-loss kernel is checked against.</summary>
internal static class ReferenceElementwiseLoss
{
    /// <summary>gradient[i] = gradScale·dℓ/dx[i]; returns Σ ℓ(x[i], y[i], p[i mod C]), C = posWeight.Length (p = 1 where it is empty).</summary>
    public static double Evaluate(
        ElementwiseLossKind kind, double parameter, ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> posWeight, Span<double> gradient, double gradScale)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double? p = posWeight.IsEmpty ? null : posWeight[i % posWeight.Length];
            sum += Term(kind, parameter, x[i], y[i], p, out double g);
            gradient[i] = gradScale * g;
        }

        return sum;
    }

    /// <summary>
    /// ℓ(x, y) of one element, with <paramref name="gradient"/> = dℓ/dx as PyTorch's backward gives it at the kinks (for
    /// MSE, d: the kernels take its factor 2 in their scale); <paramref name="posWeight"/> null for none.
    /// </summary>
    public static double Term(ElementwiseLossKind kind, double parameter, double x, double y, double? posWeight, out double gradient)
    {
        double d = x - y;
        double z = Math.Abs(d);
        switch (kind)
        {
            case ElementwiseLossKind.Mse:
                gradient = d; // the kernels' gradient for MSE: its 2 is in the caller's scale (ElementwiseLossKind.Mse)
                return d * d;
            case ElementwiseLossKind.L1:
                gradient = z > 0 ? Math.Sign(d) : 0;
                return z;
            case ElementwiseLossKind.SmoothL1:
                gradient = d <= -parameter ? -1 : d >= parameter ? 1 : d / parameter;
                return z < parameter ? 0.5 * d * d / parameter : z - (0.5 * parameter);
            case ElementwiseLossKind.Huber:
                gradient = d <= -parameter ? -parameter : d >= parameter ? parameter : d;
                return z < parameter ? 0.5 * d * d : parameter * (z - (0.5 * parameter));
            case ElementwiseLossKind.BceWithLogits:
                double e = Math.Exp(-Math.Abs(x));
                double sigmoid = (x < 0 ? e : 1) / (1 + e);
                double p = posWeight ?? 1;
                double w = posWeight is null ? 1 : 1 + ((p - 1) * y);
                gradient = (w * sigmoid) - (p * y);

                // The definition, −log σ(x) = softplus(−x) and −log(1 − σ(x)) = softplus(x), not the kernels' form.
                return (p * y * Softplus(-x)) + ((1 - y) * Softplus(x));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not an elementwise loss.");
        }
    }

    // log(1 + e^t) = max(t, 0) + log1p(e^(−|t|)), the log1p keeping a tiny argument's relative accuracy (Goldberg's correction).
    private static double Softplus(double t)
    {
        double e = Math.Exp(-Math.Abs(t));
        double u = 1 + e;
        return Math.Max(t, 0) + (u == 1 ? e : Math.Log(u) * e / (u - 1));
    }
}
