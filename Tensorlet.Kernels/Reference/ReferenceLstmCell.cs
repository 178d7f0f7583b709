namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 LSTM cell every cell kernel is checked against: readable, not fast. PyTorch's gate order i, f, g, o
/// along the 4H columns of each row. Like the kernels, each element reads all its inputs before it writes,
/// so gates may alias preactivations, and dcPrev may alias dcNext.
/// </summary>
internal static class ReferenceLstmCell
{
    /// <summary>gates = σ(i), σ(f), tanh(g), σ(o); c = f·cPrev + i·g; h = o·tanh(c).</summary>
    public static void Forward(int batch, int hidden, ReadOnlySpan<double> preactivations, ReadOnlySpan<double> cPrev, Span<double> gates, Span<double> c, Span<double> h)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int gate = (b * 4 * hidden) + j;
                int cell = (b * hidden) + j;
                double i = Sigmoid(preactivations[gate]);
                double f = Sigmoid(preactivations[gate + hidden]);
                double g = Math.Tanh(preactivations[gate + (2 * hidden)]);
                double o = Sigmoid(preactivations[gate + (3 * hidden)]);
                double cNew = (f * cPrev[cell]) + (i * g);
                gates[gate] = i;
                gates[gate + hidden] = f;
                gates[gate + (2 * hidden)] = g;
                gates[gate + (3 * hidden)] = o;
                c[cell] = cNew;
                h[cell] = o * Math.Tanh(cNew);
            }
        }
    }

    /// <summary>
    /// The chain rule through <see cref="Forward"/>, from the saved gates and c: dh reaches h = o·tanh(c),
    /// dcNext reaches c directly, and both flow back to the four preactivations and to cPrev.
    /// </summary>
    public static void Backward(
        int batch,
        int hidden,
        ReadOnlySpan<double> gates,
        ReadOnlySpan<double> c,
        ReadOnlySpan<double> cPrev,
        ReadOnlySpan<double> dh,
        ReadOnlySpan<double> dcNext,
        Span<double> dPreactivations,
        Span<double> dcPrev)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < hidden; j++)
            {
                int gate = (b * 4 * hidden) + j;
                int cell = (b * hidden) + j;
                double i = gates[gate];
                double f = gates[gate + hidden];
                double g = gates[gate + (2 * hidden)];
                double o = gates[gate + (3 * hidden)];
                double tc = Math.Tanh(c[cell]);

                // h = o·tanh(c): ∂h/∂o = tanh(c), ∂h/∂c = o·(1 − tanh²c).
                double dO = dh[cell] * tc;
                double dC = dcNext[cell] + (dh[cell] * o * (1 - (tc * tc)));

                // c = f·cPrev + i·g.
                double dI = dC * g;
                double dF = dC * cPrev[cell];
                double dG = dC * i;
                double dCPrev = dC * f;

                // σ' = σ(1 − σ), tanh' = 1 − tanh², written through the saved activations.
                dPreactivations[gate] = dI * i * (1 - i);
                dPreactivations[gate + hidden] = dF * f * (1 - f);
                dPreactivations[gate + (2 * hidden)] = dG * (1 - (g * g));
                dPreactivations[gate + (3 * hidden)] = dO * o * (1 - o);
                dcPrev[cell] = dCPrev;
            }
        }
    }

    public static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
