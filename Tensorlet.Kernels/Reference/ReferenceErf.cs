namespace Tensorlet.Kernels.Reference;

/// <summary>
/// erf and erfc in float64, which .NET lacks, for the GELU reference and for measuring the float kernels' erf. Within
/// about 1e-15 relative of the true values (ErfTests checks known values), erfc included far into its tail, where
/// 1 − erf would cancel.
/// </summary>
internal static class ReferenceErf
{
    // Below 1 the series needs at most 20 terms; from 1 on, 200 terms of the continued fraction reach double precision.
    private const double SeriesLimit = 1;
    private const int ContinuedFractionTerms = 200;

    private static readonly double TwoOverSqrtPi = 2 / Math.Sqrt(Math.PI);

    /// <summary>erf(x): the series below |x| = 1, else 1 − erfc(|x|) with the sign of x.</summary>
    public static double Erf(double x)
        => Math.Abs(x) < SeriesLimit ? Series(x) : Math.CopySign(1 - ContinuedFraction(Math.Abs(x)), x);

    /// <summary>erfc(x) = 1 − erf(x): the continued fraction from x = 1 on, so the tail keeps its relative accuracy.</summary>
    public static double Erfc(double x) => x < SeriesLimit ? 1 - Erf(x) : ContinuedFraction(x);

    /// <summary>
    /// erf(x) = 2/√π·e^(−x²)·Σₙ 2ⁿ·x^(2n+1) / (1·3·…·(2n+1)) (Abramowitz and Stegun 7.1.6): every term has the sign of
    /// x, so nothing cancels.
    /// </summary>
    private static double Series(double x)
    {
        double x2 = x * x;
        double term = x, sum = x;
        for (int n = 1; Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
        {
            term *= 2 * x2 / ((2 * n) + 1);
            sum += term;
        }

        return TwoOverSqrtPi * Math.Exp(-x2) * sum;
    }

    /// <summary>
    /// erfc(x) for x ≥ 1 by Laplace's continued fraction, e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))
    /// (Abramowitz and Stegun 7.1.14), evaluated from its last term back.
    /// </summary>
    private static double ContinuedFraction(double x)
    {
        double f = x;
        for (int k = ContinuedFractionTerms; k >= 1; k--)
        {
            f = x + (k / 2.0 / f);
        }

        return Math.Exp(-x * x) / (Math.Sqrt(Math.PI) * f);
    }
}
