namespace Tensorlet.Tests.Models;

/// <summary>
/// The notebook's LSTM model (nn.LSTM on one-hot input, dropout 0, then a Linear head, mean
/// cross-entropy) as plain float64 loops: the reference the float32 engine is checked against.
/// Parameters use PyTorch's names and layouts; inputs and targets are [B, T] (batch first).
/// </summary>
internal sealed class ReferenceLstmModel(int vocabulary, int hidden, int layers)
{
    public int V { get; } = vocabulary;

    public int H { get; } = hidden;

    public int L { get; } = layers;

    public Dictionary<string, double[]> Parameters { get; } = [];

    /// <summary>Dropout between layers; its mask is Tensorlet's, from Philox keyed by (seed, step·64 + layer, element).</summary>
    public float Dropout { get; init; }

    public ulong DropoutSeed { get; init; }

    public ulong DropoutStep { get; init; }

    private double Mask(int layer, int step, int sequence, int j, int batch)
        => Dropout == 0 ? 1 : Tensorlet.Kernels.Reference.ReferenceDropout.Keeps(Dropout, DropoutSeed, (DropoutStep * 64) + (ulong)layer, ((((long)step * batch) + sequence) * H) + j) ? 1 / (1 - (double)Dropout) : 0;

    public static IEnumerable<(string Name, int[] Shape)> ParameterShapes(int v, int h, int l)
    {
        for (int k = 0; k < l; k++)
        {
            yield return ($"lstm.weight_ih_l{k}", [4 * h, k == 0 ? v : h]);
            yield return ($"lstm.weight_hh_l{k}", [4 * h, h]);
            yield return ($"lstm.bias_ih_l{k}", [4 * h]);
            yield return ($"lstm.bias_hh_l{k}", [4 * h]);
        }

        yield return ("output.weight", [v, h]);
        yield return ("output.bias", [v]);
    }

    /// <summary>
    /// The mean cross-entropy, and when <paramref name="gradients"/> is given, every parameter's gradient; when
    /// <paramref name="perPosition"/> [B, T] is given, each position's cross-entropy.
    /// </summary>
    public double Loss(int[,] inputs, int[,] targets, Dictionary<string, double[]>? gradients = null, double[,]? perPosition = null)
    {
        int b = inputs.GetLength(0), t = inputs.GetLength(1);

        // Forward, keeping every state: h[k][s][n], c, and activated gates.
        var h = new double[L][][][];
        var c = new double[L][][][];
        var gates = new double[L][][][];
        var layerInput = new double[L][][][];
        for (int k = 0; k < L; k++)
        {
            if (k > 0)
            {
                layerInput[k] = New3(t, b, H);
                for (int s = 0; s < t; s++)
                {
                    for (int n = 0; n < b; n++)
                    {
                        for (int j = 0; j < H; j++)
                        {
                            layerInput[k][s][n][j] = h[k - 1][s][n][j] * Mask(k - 1, s, n, j, b);
                        }
                    }
                }
            }

            h[k] = New3(t, b, H);
            c[k] = New3(t, b, H);
            gates[k] = New3(t, b, 4 * H);
            var wih = Parameters[$"lstm.weight_ih_l{k}"];
            var whh = Parameters[$"lstm.weight_hh_l{k}"];
            var bih = Parameters[$"lstm.bias_ih_l{k}"];
            var bhh = Parameters[$"lstm.bias_hh_l{k}"];
            int inK = k == 0 ? V : H;
            for (int s = 0; s < t; s++)
            {
                for (int n = 0; n < b; n++)
                {
                    for (int r = 0; r < 4 * H; r++)
                    {
                        double pre = bih[r] + bhh[r];
                        pre += k == 0 ? wih[(r * inK) + inputs[n, s]] : Dot(wih, r * inK, layerInput[k][s][n]);
                        if (s > 0)
                        {
                            pre += Dot(whh, r * H, h[k][s - 1][n]);
                        }

                        gates[k][s][n][r] = r / H == 2 ? Math.Tanh(pre) : Sigmoid(pre);
                    }

                    for (int j = 0; j < H; j++)
                    {
                        var g = gates[k][s][n];
                        double cPrev = s > 0 ? c[k][s - 1][n][j] : 0;
                        c[k][s][n][j] = (g[H + j] * cPrev) + (g[j] * g[(2 * H) + j]);
                        h[k][s][n][j] = g[(3 * H) + j] * Math.Tanh(c[k][s][n][j]);
                    }
                }
            }
        }

        var wOut = Parameters["output.weight"];
        var bOut = Parameters["output.bias"];
        double loss = 0;
        int rows = b * t;
        var dTop = New3(t, b, H);
        for (int s = 0; s < t; s++)
        {
            for (int n = 0; n < b; n++)
            {
                var logits = new double[V];
                for (int v = 0; v < V; v++)
                {
                    logits[v] = bOut[v] + Dot(wOut, v * H, h[L - 1][s][n]);
                }

                double max = logits.Max();
                double sum = logits.Sum(z => Math.Exp(z - max));
                double logSumExp = max + Math.Log(sum);
                loss += logSumExp - logits[targets[n, s]];
                if (perPosition is not null)
                {
                    perPosition[n, s] = logSumExp - logits[targets[n, s]];
                }

                if (gradients is null)
                {
                    continue;
                }

                for (int v = 0; v < V; v++)
                {
                    double d = (Math.Exp(logits[v] - logSumExp) - (v == targets[n, s] ? 1 : 0)) / rows;
                    Grad(gradients, "output.bias")[v] += d;
                    for (int j = 0; j < H; j++)
                    {
                        Grad(gradients, "output.weight")[(v * H) + j] += d * h[L - 1][s][n][j];
                        dTop[s][n][j] += d * wOut[(v * H) + j];
                    }
                }
            }
        }

        if (gradients is null)
        {
            return loss / rows;
        }

        var dh = dTop;
        for (int k = L - 1; k >= 0; k--)
        {
            var wih = Parameters[$"lstm.weight_ih_l{k}"];
            var whh = Parameters[$"lstm.weight_hh_l{k}"];
            int inK = k == 0 ? V : H;
            var dBelow = New3(t, b, H);
            for (int n = 0; n < b; n++)
            {
                var dhNext = new double[H];
                var dcNext = new double[H];
                for (int s = t - 1; s >= 0; s--)
                {
                    var g = gates[k][s][n];
                    var dPre = new double[4 * H];
                    for (int j = 0; j < H; j++)
                    {
                        double dhj = dh[s][n][j] + dhNext[j];
                        double tc = Math.Tanh(c[k][s][n][j]);
                        double i = g[j], f = g[H + j], gg = g[(2 * H) + j], o = g[(3 * H) + j];
                        double dc = dcNext[j] + (dhj * o * (1 - (tc * tc)));
                        double cPrev = s > 0 ? c[k][s - 1][n][j] : 0;
                        dPre[j] = dc * gg * i * (1 - i);
                        dPre[H + j] = dc * cPrev * f * (1 - f);
                        dPre[(2 * H) + j] = dc * i * (1 - (gg * gg));
                        dPre[(3 * H) + j] = dhj * tc * o * (1 - o);
                        dcNext[j] = dc * f;
                    }

                    Array.Clear(dhNext);
                    for (int r = 0; r < 4 * H; r++)
                    {
                        Grad(gradients, $"lstm.bias_ih_l{k}")[r] += dPre[r];
                        Grad(gradients, $"lstm.bias_hh_l{k}")[r] += dPre[r];
                        if (k == 0)
                        {
                            Grad(gradients, $"lstm.weight_ih_l{k}")[(r * inK) + inputs[n, s]] += dPre[r];
                        }
                        else
                        {
                            for (int j = 0; j < H; j++)
                            {
                                Grad(gradients, $"lstm.weight_ih_l{k}")[(r * inK) + j] += dPre[r] * layerInput[k][s][n][j];
                                dBelow[s][n][j] += dPre[r] * wih[(r * inK) + j] * Mask(k - 1, s, n, j, b);
                            }
                        }

                        for (int j = 0; j < H; j++)
                        {
                            if (s > 0)
                            {
                                Grad(gradients, $"lstm.weight_hh_l{k}")[(r * H) + j] += dPre[r] * h[k][s - 1][n][j];
                            }

                            dhNext[j] += dPre[r] * whh[(r * H) + j];
                        }
                    }
                }
            }

            dh = dBelow;
        }

        return loss / rows;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double Dot(double[] w, int offset, double[] x)
    {
        double sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            sum += w[offset + j] * x[j];
        }

        return sum;
    }

    private static double[][][] New3(int a, int b, int c)
        => [.. Enumerable.Range(0, a).Select(_ => Enumerable.Range(0, b).Select(_ => new double[c]).ToArray())];

    private double[] Grad(Dictionary<string, double[]> gradients, string name)
    {
        if (!gradients.TryGetValue(name, out var g))
        {
            g = new double[Parameters[name].Length];
            gradients[name] = g;
        }

        return g;
    }
}
