using Tensorlet.Kernels.Reference;

namespace Tensorlet.Tests.Models;

/// <summary>
/// A multi-layer nn.GRU (PyTorch's names, layouts and formula) on dense input as plain float64 loops, with the loss
/// Σ w·output so every output element gets its own gradient: the reference the float32 <see cref="Tensorlet.Nn.Gru"/>
/// is checked against. Inputs are time-major [T][B][In]; the initial state is a constant (no gradient flows into it,
/// as in the layer). Each step runs the float64 reference cell, itself checked against finite differences.
/// </summary>
internal sealed class ReferenceGruModel(int inputSize, int hidden, int layers)
{
    public int In { get; } = inputSize;

    public int H { get; } = hidden;

    public int L { get; } = layers;

    /// <summary>The parameters by state_dict name, and "x" [T·B·In], the input, so finite differences can check dL/dx too.</summary>
    public Dictionary<string, double[]> Parameters { get; } = [];

    /// <summary>The loss weights w [T·B·H] on the last layer's output.</summary>
    public double[] OutputWeights { get; set; } = [];

    /// <summary>The initial h per layer, [B·H] each; zeros when null.</summary>
    public double[][]? InitialHidden { get; init; }

    /// <summary>Dropout between layers; its mask is Tensorlet's, from Philox keyed by (seed, step·64 + layer, element).</summary>
    public float Dropout { get; init; }

    public ulong DropoutSeed { get; init; }

    public ulong DropoutStep { get; init; }

    public static IEnumerable<(string Name, int[] Shape)> ParameterShapes(int inputSize, int h, int l)
    {
        for (int k = 0; k < l; k++)
        {
            yield return ($"gru.weight_ih_l{k}", [3 * h, k == 0 ? inputSize : h]);
            yield return ($"gru.weight_hh_l{k}", [3 * h, h]);
            yield return ($"gru.bias_ih_l{k}", [3 * h]);
            yield return ($"gru.bias_hh_l{k}", [3 * h]);
        }
    }

    /// <summary>
    /// Runs the GRU on <see cref="Parameters"/>["x"] for <paramref name="steps"/> × <paramref name="batch"/> and returns
    /// Σ w·output; fills <paramref name="output"/> [T·B·H] and <paramref name="finalHidden"/> (per layer [B·H]) when given,
    /// and every gradient (the parameters' and "x") when <paramref name="gradients"/> is given.
    /// </summary>
    public double Loss(int steps, int batch, Dictionary<string, double[]>? gradients = null, double[]? output = null, double[][]? finalHidden = null)
    {
        int wide = 3 * H;
        var x = new double[L][];
        var gates = new double[L][][];
        var gh = new double[L][][];
        var h = new double[L][][];
        x[0] = Parameters["x"];
        for (int k = 0; k < L; k++)
        {
            int inK = k == 0 ? In : H;
            if (k > 0)
            {
                x[k] = new double[steps * batch * H];
                for (int e = 0; e < x[k].Length; e++)
                {
                    x[k][e] = h[k - 1][e / (batch * H)][e % (batch * H)] * Mask(k - 1, e);
                }
            }

            var wih = Parameters[$"gru.weight_ih_l{k}"];
            var whh = Parameters[$"gru.weight_hh_l{k}"];
            var bih = Parameters[$"gru.bias_ih_l{k}"];
            var bhh = Parameters[$"gru.bias_hh_l{k}"];
            gates[k] = new double[steps][];
            gh[k] = new double[steps][];
            h[k] = new double[steps][];
            for (int s = 0; s < steps; s++)
            {
                var hPrev = HPrev(k, s, h, batch);
                var gi = new double[batch * wide];
                gh[k][s] = new double[batch * wide];
                for (int n = 0; n < batch; n++)
                {
                    for (int r = 0; r < wide; r++)
                    {
                        double sumI = bih[r], sumH = bhh[r];
                        for (int i = 0; i < inK; i++)
                        {
                            sumI += wih[(r * inK) + i] * x[k][(((s * batch) + n) * inK) + i];
                        }

                        for (int i = 0; i < H; i++)
                        {
                            sumH += whh[(r * H) + i] * hPrev[(n * H) + i];
                        }

                        gi[(n * wide) + r] = sumI;
                        gh[k][s][(n * wide) + r] = sumH;
                    }
                }

                gates[k][s] = new double[batch * wide];
                h[k][s] = new double[batch * H];
                ReferenceGruCell.Forward(batch, H, gi, gh[k][s], hPrev, gates[k][s], h[k][s]);
            }
        }

        double loss = 0;
        for (int s = 0; s < steps; s++)
        {
            for (int e = 0; e < batch * H; e++)
            {
                loss += OutputWeights[(s * batch * H) + e] * h[L - 1][s][e];
                if (output is not null)
                {
                    output[(s * batch * H) + e] = h[L - 1][s][e];
                }
            }
        }

        for (int k = 0; finalHidden is not null && k < L; k++)
        {
            finalHidden[k] = h[k][steps - 1];
        }

        if (gradients is null)
        {
            return loss;
        }

        // dL/dh of the top layer is w; each layer's dL/dx, masked, is dL/dh of the layer below.
        var dTop = (double[])OutputWeights.Clone();
        for (int k = L - 1; k >= 0; k--)
        {
            int inK = k == 0 ? In : H;
            var wih = Parameters[$"gru.weight_ih_l{k}"];
            var whh = Parameters[$"gru.weight_hh_l{k}"];
            var dx = new double[steps * batch * inK];
            var carry = new double[batch * H];
            var dghNext = new double[batch * wide];
            for (int s = steps - 1; s >= 0; s--)
            {
                var hPrev = HPrev(k, s, h, batch);
                var dh = new double[batch * H];
                for (int n = 0; n < batch; n++)
                {
                    for (int j = 0; j < H; j++)
                    {
                        double d = dTop[(((s * batch) + n) * H) + j];
                        for (int r = 0; s < steps - 1 && r < wide; r++)
                        {
                            d += dghNext[(n * wide) + r] * whh[(r * H) + j];
                        }

                        dh[(n * H) + j] = d;
                    }
                }

                var dgi = new double[batch * wide];
                var dgh = new double[batch * wide];
                ReferenceGruCell.Backward(batch, H, gates[k][s], gh[k][s], hPrev, dh, carry, dgi, dgh, carry);
                for (int n = 0; n < batch; n++)
                {
                    for (int r = 0; r < wide; r++)
                    {
                        double gI = dgi[(n * wide) + r], gH = dgh[(n * wide) + r];
                        Grad(gradients, $"gru.bias_ih_l{k}")[r] += gI;
                        Grad(gradients, $"gru.bias_hh_l{k}")[r] += gH;
                        for (int i = 0; i < inK; i++)
                        {
                            int xi = (((s * batch) + n) * inK) + i;
                            Grad(gradients, $"gru.weight_ih_l{k}")[(r * inK) + i] += gI * x[k][xi];
                            dx[xi] += gI * wih[(r * inK) + i];
                        }

                        for (int i = 0; i < H; i++)
                        {
                            Grad(gradients, $"gru.weight_hh_l{k}")[(r * H) + i] += gH * hPrev[(n * H) + i];
                        }
                    }
                }

                dghNext = dgh;
            }

            if (k == 0)
            {
                var gx = Grad(gradients, "x");
                for (int e = 0; e < dx.Length; e++)
                {
                    gx[e] += dx[e];
                }
            }
            else
            {
                dTop = new double[dx.Length];
                for (int e = 0; e < dx.Length; e++)
                {
                    dTop[e] = dx[e] * Mask(k - 1, e);
                }
            }
        }

        return loss;
    }

    private double[] HPrev(int k, int s, double[][][] h, int batch)
        => s > 0 ? h[k][s - 1] : InitialHidden?[k] ?? new double[batch * H];

    /// <summary>The dropout factor of element e (= (step·B + sequence)·H + j) of layer <paramref name="layer"/>'s output.</summary>
    private double Mask(int layer, int e)
        => Dropout == 0 ? 1 : ReferenceDropout.Keeps(Dropout, DropoutSeed, (DropoutStep * 64) + (ulong)layer, e) ? 1 / (1 - (double)Dropout) : 0;

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
