using NUnit.Framework;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The check of a fused recurrence's bias gradient: the float64 column sums of the d(pre) it wrote, within the error
/// bound of its two float sums (a step's B rows, then the T steps): (B + T)·ε·Σ|d(pre)| per column.
/// </summary>
internal static class RecurrenceBiasGradients
{
    // 2⁻²⁴, float32's unit roundoff.
    private const double UnitRoundoff = 5.960464477539063e-8;

    public static void AssertColumnSums(float[] dBias, float[] dPre, int batch, int steps, string name)
    {
        int columns = dBias.Length;
        double[] sums = new double[columns], absoluteSums = new double[columns];
        for (int i = 0; i < dPre.Length; i++)
        {
            sums[i % columns] += dPre[i];
            absoluteSums[i % columns] += Math.Abs(dPre[i]);
        }

        for (int j = 0; j < columns; j++)
        {
            double bound = (batch + steps) * UnitRoundoff * absoluteSums[j];
            Assert.That(dBias[j], Is.EqualTo(sums[j]).Within(bound), $"{name}[{j}]");
        }
    }
}
