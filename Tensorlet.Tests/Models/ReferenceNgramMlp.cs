using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;

namespace Tensorlet.Tests.Models;

/// <summary>The notebook's n-gram MLP (L1 on one-hot n-grams, activation, L2, mean cross-entropy) as plain float64 loops.</summary>
internal sealed class ReferenceNgramMlp(int ngramVocabulary, int charVocabulary, int hidden, Activation activation)
{
    /// <summary>Leaky ReLU's slope, nn.LeakyReLU's default, which the model's activation module takes.</summary>
    private const double LeakyReluSlope = 0.01f;

    public Dictionary<string, double[]> Parameters { get; } = [];

    public static IEnumerable<(string Name, int[] Shape)> ParameterShapes(int ngrams, int chars, int hidden)
    {
        yield return ("L1.weight", [hidden, ngrams]);
        yield return ("L1.bias", [hidden]);
        yield return ("L2.weight", [chars, hidden]);
        yield return ("L2.bias", [chars]);
    }

    public double Loss(int[] inputs, int[] targets, Dictionary<string, double[]>? gradients = null)
    {
        var w1 = Parameters["L1.weight"];
        var b1 = Parameters["L1.bias"];
        var w2 = Parameters["L2.weight"];
        var b2 = Parameters["L2.bias"];
        int n = inputs.Length;
        double loss = 0;
        foreach (var name in Parameters.Keys)
        {
            if (gradients is not null && !gradients.ContainsKey(name))
            {
                gradients[name] = new double[Parameters[name].Length];
            }
        }

        for (int row = 0; row < n; row++)
        {
            var z = new double[hidden];
            var a = new double[hidden];
            for (int j = 0; j < hidden; j++)
            {
                z[j] = w1[(j * ngramVocabulary) + inputs[row]] + b1[j];
                a[j] = activation == Activation.LeakyRelu ? ReferenceActivation.LeakyRelu(z[j], LeakyReluSlope) : ReferenceActivation.Forward(activation, z[j]);
            }

            var logits = new double[charVocabulary];
            for (int v = 0; v < charVocabulary; v++)
            {
                logits[v] = b2[v];
                for (int j = 0; j < hidden; j++)
                {
                    logits[v] += w2[(v * hidden) + j] * a[j];
                }
            }

            double max = logits.Max();
            double lse = max + Math.Log(logits.Sum(z => Math.Exp(z - max)));
            loss += lse - logits[targets[row]];
            if (gradients is null)
            {
                continue;
            }

            var da = new double[hidden];
            for (int v = 0; v < charVocabulary; v++)
            {
                double d = (Math.Exp(logits[v] - lse) - (v == targets[row] ? 1 : 0)) / n;
                gradients["L2.bias"][v] += d;
                for (int j = 0; j < hidden; j++)
                {
                    gradients["L2.weight"][(v * hidden) + j] += d * a[j];
                    da[j] += d * w2[(v * hidden) + j];
                }
            }

            for (int j = 0; j < hidden; j++)
            {
                double dz = activation == Activation.LeakyRelu
                    ? ReferenceActivation.LeakyReluBackward(z[j], da[j], LeakyReluSlope)
                    : ReferenceActivation.Backward(activation, z[j], a[j], da[j]);
                gradients["L1.bias"][j] += dz;
                gradients["L1.weight"][(j * ngramVocabulary) + inputs[row]] += dz;
            }
        }

        return loss / n;
    }
}
