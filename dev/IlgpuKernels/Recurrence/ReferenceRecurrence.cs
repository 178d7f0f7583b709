using Tensorlet.Kernels.Reference;

namespace Tensorlet.Dev.IlgpuKernels.Recurrence;

/// <summary>
/// One LSTM layer's recurrence, forward then backward, in plain float64 from <see cref="ReferenceGemm"/> and
/// <see cref="ReferenceLstmCell"/>: what every <see cref="RecurrenceVariant"/> is checked against. Same buffers as
/// <see cref="RecurrenceRunner"/>; returns gates, c, h, dh (with the recurrent terms), dc0 and d(pre).
/// </summary>
internal static class ReferenceRecurrence
{
    public static double[][] Run(float[] preactivations, float[] h0, float[] c0, float[] weightHh, float[] dHFromAbove, int steps, int batch, int hidden)
    {
        int gateStep = batch * 4 * hidden, cellStep = batch * hidden;
        double[] gates = [.. preactivations.Select(v => (double)v)];
        double[] weight = [.. weightHh.Select(v => (double)v)];
        double[] dH = [.. dHFromAbove.Select(v => (double)v)];
        double[] h0d = [.. h0.Select(v => (double)v)], c0d = [.. c0.Select(v => (double)v)];
        var cells = new double[steps * cellStep];
        var hiddenStates = new double[steps * cellStep];
        var dPre = new double[steps * gateStep];
        var dc = new double[cellStep];
        for (int t = 0; t < steps; t++)
        {
            var gatesT = gates.AsSpan(t * gateStep, gateStep);
            ReadOnlySpan<double> hPrev = t > 0 ? hiddenStates.AsSpan((t - 1) * cellStep, cellStep) : h0d;
            ReadOnlySpan<double> cPrev = t > 0 ? cells.AsSpan((t - 1) * cellStep, cellStep) : c0d;
            ReferenceGemm.Gemm(false, true, batch, 4 * hidden, hidden, 1, hPrev, weight, 1, gatesT);
            var pre = gatesT.ToArray();
            ReferenceLstmCell.Forward(batch, hidden, pre, cPrev, gatesT, cells.AsSpan(t * cellStep, cellStep), hiddenStates.AsSpan(t * cellStep, cellStep));
        }

        for (int t = steps - 1; t >= 0; t--)
        {
            var dHT = dH.AsSpan(t * cellStep, cellStep);
            if (t < steps - 1)
            {
                ReferenceGemm.Gemm(false, false, batch, hidden, 4 * hidden, 1, dPre.AsSpan((t + 1) * gateStep, gateStep), weight, 1, dHT);
            }

            ReadOnlySpan<double> cPrev = t > 0 ? cells.AsSpan((t - 1) * cellStep, cellStep) : c0d;
            var dcNext = dc.ToArray();
            ReferenceLstmCell.Backward(batch, hidden, gates.AsSpan(t * gateStep, gateStep), cells.AsSpan(t * cellStep, cellStep), cPrev, dHT, dcNext, dPre.AsSpan(t * gateStep, gateStep), dc);
        }

        return [gates, cells, hiddenStates, dH, dc, dPre];
    }
}
