using NUnit.Framework;

namespace Tensorlet.Tests.Models;

/// <summary>Central finite differences in float64, and the relative error docs/design.md specifies (Tolerances).</summary>
internal static class GradientCheck
{
    /// <summary>
    /// Checks every analytic gradient against the fourth-order central difference
    /// (−f(θ+2h) + 8f(θ+h) − 8f(θ−h) + f(θ−2h)) / 12h. The error bound is |a − n| / max(|a|, |n|, floor) &lt; 1e-6.
    /// The plain two-point difference leaves an h²·f‴ truncation error near 1e-10 at its best h, too much for
    /// 1e-6 on gradients of 1e-5; with the five-point stencil at h = 1e-4 in float64, truncation (h⁴·f⁽⁵⁾) and
    /// round-off (≈1e-16·|f|/h) are both near 1e-12. The floor of 1e-5 keeps entries that are zero in exact
    /// arithmetic from failing on round-off alone, while every gradient above 1e-5 is held to 1e-6.
    /// </summary>
    public static double MaxRelativeError(Dictionary<string, double[]> parameters, Dictionary<string, double[]> analytic, Func<double> loss, double h = 1e-4, double floor = 1e-5)
    {
        double worst = 0;
        foreach (var (name, values) in parameters)
        {
            for (int i = 0; i < values.Length; i++)
            {
                double numeric = CentralDifference(values, i, loss, h);
                double a = analytic[name][i];
                double error = Math.Abs(a - numeric) / Math.Max(Math.Max(Math.Abs(a), Math.Abs(numeric)), floor);
                worst = Math.Max(worst, error);
                if (error >= 1e-6)
                {
                    Assert.Fail($"{name}[{i}]: analytic {a:G10}, numeric {numeric:G10}, relative error {error:G3}.");
                }
            }
        }

        return worst;
    }

    /// <summary>
    /// dL/d(values[i]) by the five-point central difference at step <paramref name="h"/> (see
    /// <see cref="MaxRelativeError"/>); values[i] is restored afterwards.
    /// </summary>
    public static double CentralDifference(double[] values, int i, Func<double> loss, double h = 1e-4)
    {
        double saved = values[i];
        double At(double x)
        {
            values[i] = x;
            return loss();
        }

        double numeric = (-At(saved + (2 * h)) + (8 * At(saved + h)) - (8 * At(saved - h)) + At(saved - (2 * h))) / (12 * h);
        values[i] = saved;
        return numeric;
    }
}
