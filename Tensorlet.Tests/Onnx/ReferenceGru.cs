namespace Tensorlet.Tests.Onnx;

/// <summary>
/// nn.GRU in float64, straight from PyTorch's documented formula (gates r, z, n; the reset gate applied to
/// W_hn h + b_hn), with random float32 parameters under PyTorch's state_dict names. Time-major [T, B, features].
/// </summary>
internal sealed class ReferenceGru
{
    private readonly string prefix;
    private readonly int input;
    private readonly int hidden;
    private readonly int layers;

    public ReferenceGru(Random random, string prefix, int input, int hidden, int layers)
    {
        this.prefix = prefix;
        this.input = input;
        this.hidden = hidden;
        this.layers = layers;
        for (int k = 0; k < layers; k++)
        {
            int inK = k == 0 ? input : hidden;
            StateDict[$"{prefix}.weight_ih_l{k}"] = ([3 * hidden, inK], OnnxLayerTests.Uniform(random, 3 * hidden * inK, 0.8f));
            StateDict[$"{prefix}.weight_hh_l{k}"] = ([3 * hidden, hidden], OnnxLayerTests.Uniform(random, 3 * hidden * hidden, 0.8f));
            StateDict[$"{prefix}.bias_ih_l{k}"] = ([3 * hidden], OnnxLayerTests.Uniform(random, 3 * hidden, 0.8f));
            StateDict[$"{prefix}.bias_hh_l{k}"] = ([3 * hidden], OnnxLayerTests.Uniform(random, 3 * hidden, 0.8f));
        }
    }

    /// <summary>The parameters by state_dict name.</summary>
    public Dictionary<string, (int[] Shape, float[] Data)> StateDict { get; } = [];

    /// <summary>W · x + b for a row-major W [rows, x.Length].</summary>
    public static double[] Affine(float[] w, float[] b, double[] x)
    {
        var y = new double[b.Length];
        for (int i = 0; i < y.Length; i++)
        {
            double sum = b[i];
            for (int j = 0; j < x.Length; j++)
            {
                sum += w[(i * x.Length) + j] * x[j];
            }

            y[i] = sum;
        }

        return y;
    }

    /// <summary>Runs <paramref name="steps"/> steps of x [T, B, In] from <paramref name="state"/> [L, B, H], which it updates; returns the last layer's h [T, B, H].</summary>
    public double[] Forward(float[] x, int steps, int batch, double[] state)
    {
        var output = new double[steps * batch * hidden];
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                var layerInput = x.Skip(((t * batch) + b) * input).Take(input).Select(v => (double)v).ToArray();
                for (int k = 0; k < layers; k++)
                {
                    var h = state.AsSpan(((k * batch) + b) * hidden, hidden);
                    var gi = Affine(StateDict[$"{prefix}.weight_ih_l{k}"].Data, StateDict[$"{prefix}.bias_ih_l{k}"].Data, layerInput);
                    var gh = Affine(StateDict[$"{prefix}.weight_hh_l{k}"].Data, StateDict[$"{prefix}.bias_hh_l{k}"].Data, h.ToArray());
                    for (int j = 0; j < hidden; j++)
                    {
                        double r = Sigmoid(gi[j] + gh[j]);
                        double z = Sigmoid(gi[hidden + j] + gh[hidden + j]);
                        double n = Math.Tanh(gi[(2 * hidden) + j] + (r * gh[(2 * hidden) + j]));
                        h[j] = ((1 - z) * n) + (z * h[j]);
                    }

                    layerInput = h.ToArray();
                }

                layerInput.CopyTo(output, ((t * batch) + b) * hidden);
            }
        }

        return output;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
