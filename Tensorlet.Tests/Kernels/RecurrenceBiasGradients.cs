using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

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

    /// <summary>
    /// Runs a fused backward (<paramref name="backward"/>(threads) returns its outputs) on 1, 2 and 3 threads and holds
    /// every output to the same floats on each: one thread runs the units' split alone, two and three split the batch
    /// rows when the packed weight is small (SplitsByRows), and the bias gradients' sums run in an order that depends on
    /// neither. <paramref name="outputs"/> names the outputs, in order, for the message.
    /// </summary>
    public static void AssertSameFloatsOnAnyThreadCount(Func<int, float[][]> backward, string outputs)
    {
        if (CpuThreadTeam.MaxThreads < 2)
        {
            Assert.Ignore($"Splitting needs two threads; this machine has {Environment.ProcessorCount} core(s).");
        }

        float[][]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            float[][] results = backward(threads);
            first ??= results;
            for (int i = 0; i < results.Length; i++)
            {
                Assert.That(results[i], Is.EqualTo(first[i]), $"output {i} ({outputs}) on {threads} threads");
            }
        }
    }
}
