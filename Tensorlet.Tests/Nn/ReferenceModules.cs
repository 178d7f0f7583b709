using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Plain float64 forward and backward passes of the modules and losses, written out per element, for the gradient
/// checks: Embedding, the last-step Slice, Linear, Conv1d, LayerNorm, BatchNorm1d in training, the activations, the softmax and
/// log-softmax over the last dimension, cross-entropy and NLL (mean or sum, ignore_index) and MSE.
/// Parameters live in a dictionary under their state_dict names, so finite differences can perturb them in place.
/// </summary>
internal sealed class ReferenceModules
{
    public Dictionary<string, double[]> Parameters { get; } = [];

    /// <summary>y [N, Out] = x [N, In]·Wᵀ + b with <c>{name}.weight</c> and <c>{name}.bias</c>.</summary>
    public double[] Linear(string name, double[] x, int n, int inFeatures, int outFeatures)
    {
        var w = Parameters[$"{name}.weight"];
        var b = Parameters.GetValueOrDefault($"{name}.bias"); // none for Linear(bias: false)
        var y = new double[n * outFeatures];
        for (int i = 0; i < n; i++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = b?[o] ?? 0;
                for (int c = 0; c < inFeatures; c++)
                {
                    sum += x[(i * inFeatures) + c] * w[(o * inFeatures) + c];
                }

                y[(i * outFeatures) + o] = sum;
            }
        }

        return y;
    }

    /// <summary>Accumulates dW, db into <paramref name="grads"/> and returns dx.</summary>
    public double[] LinearBackward(string name, double[] x, double[] dy, int n, int inFeatures, int outFeatures, Dictionary<string, double[]> grads)
    {
        var w = Parameters[$"{name}.weight"];
        var dw = Grad(grads, $"{name}.weight", w.Length);
        var db = Parameters.ContainsKey($"{name}.bias") ? Grad(grads, $"{name}.bias", outFeatures) : null;
        var dx = new double[n * inFeatures];
        for (int i = 0; i < n; i++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double g = dy[(i * outFeatures) + o];
                if (db is not null)
                {
                    db[o] += g;
                }

                for (int c = 0; c < inFeatures; c++)
                {
                    dw[(o * inFeatures) + c] += g * x[(i * inFeatures) + c];
                    dx[(i * inFeatures) + c] += g * w[(o * inFeatures) + c];
                }
            }
        }

        return dx;
    }

    /// <summary>f(x), element by element (<see cref="ReferenceActivation"/>).</summary>
    public static double[] Activate(ActivationCase f, double[] x) => f.Reference(x);

    /// <summary>dx from dy, the activation's input x and its output y.</summary>
    public static double[] ActivateBackward(ActivationCase f, double[] x, double[] y, double[] dy) => f.ReferenceBackward(x, y, dy);

    /// <summary>
    /// nn.LayerNorm over the last D of x [N, D] with <c>{name}.weight</c> and <c>{name}.bias</c> where present, by
    /// <see cref="ReferenceLayerNorm"/>; also returns each row's mean and rstd for <see cref="LayerNormBackward"/>.
    /// </summary>
    public (double[] Y, double[] Mean, double[] Rstd) LayerNorm(string name, double[] x, int n, int d, double epsilon)
    {
        var y = new double[n * d];
        var mean = new double[n];
        var rstd = new double[n];
        ReferenceLayerNorm.Forward(n, d, x, Parameters.GetValueOrDefault($"{name}.weight", []), Parameters.GetValueOrDefault($"{name}.bias", []), epsilon, y, mean, rstd);
        return (y, mean, rstd);
    }

    /// <summary>Accumulates the weight and bias gradients (those the layer has) into <paramref name="grads"/> and returns dx.</summary>
    public double[] LayerNormBackward(string name, double[] x, double[] mean, double[] rstd, double[] dy, int n, int d, Dictionary<string, double[]> grads)
    {
        var dx = new double[n * d];
        var weight = Parameters.GetValueOrDefault($"{name}.weight", []);
        var dWeight = weight.Length > 0 ? Grad(grads, $"{name}.weight", d) : [];
        var dBias = Parameters.ContainsKey($"{name}.bias") ? Grad(grads, $"{name}.bias", d) : [];
        ReferenceLayerNorm.Backward(n, d, x, mean, rstd, weight, dy, dx, dWeight, dBias);
        return dx;
    }

    /// <summary>
    /// nn.BatchNorm1d in training over x [N, C, L] (L = 1 for [N, C]) with <c>{name}.weight</c> and <c>{name}.bias</c>
    /// where present, by <see cref="ReferenceBatchNorm"/>: the batch's statistics, also returned for <see cref="BatchNormBackward"/>.
    /// </summary>
    public (double[] Y, double[] Mean, double[] Variance) BatchNorm(string name, double[] x, int n, int c, int l, double epsilon)
    {
        var y = new double[x.Length];
        var mean = new double[c];
        var variance = new double[c];
        ReferenceBatchNorm.Statistics(n, c, l, x, mean, variance);
        ReferenceBatchNorm.Forward(n, c, l, x, mean, variance, Parameters.GetValueOrDefault($"{name}.weight", []), Parameters.GetValueOrDefault($"{name}.bias", []), epsilon, y);
        return (y, mean, variance);
    }

    /// <summary>Accumulates the weight and bias gradients (those the layer has) into <paramref name="grads"/> and returns dx, through the batch's statistics.</summary>
    public double[] BatchNormBackward(string name, double[] x, double[] mean, double[] variance, double[] dy, int n, int c, int l, double epsilon, Dictionary<string, double[]> grads)
    {
        var dx = new double[x.Length];
        var weight = Parameters.GetValueOrDefault($"{name}.weight", []);
        var dWeight = weight.Length > 0 ? Grad(grads, $"{name}.weight", c) : [];
        var dBias = Parameters.ContainsKey($"{name}.bias") ? Grad(grads, $"{name}.bias", c) : [];
        ReferenceBatchNorm.Backward(n, c, l, x, mean, variance, weight, epsilon, dy, dx, dWeight, dBias, batchStatistics: true);
        return dx;
    }

    /// <summary>
    /// nn.Conv1d over x [N, C_in, L] with <c>{name}.weight</c> [C_out, C_in/G, k] and <c>{name}.bias</c> where present,
    /// in G = <paramref name="groups"/> groups, written by its definition: y[n, o, t] = b[o] + Σ_{c, j}
    /// w[o, c, j]·x[n, ⌊o/(C_out/G)⌋·C_in/G + c, p] over c in [0, C_in/G), p = t·stride − left + j·dilation. With zero
    /// padding the terms with p outside [0, L) are left out; another <paramref name="mode"/> reads x at
    /// <see cref="PaddedSource"/>(p) instead.
    /// </summary>
    public double[] Conv1d(string name, double[] x, Conv1dGeometry g, int outChannels, int groups = 1, PaddingMode mode = PaddingMode.Zeros)
        => Convolve(name, x, g.Batch * outChannels * g.OutputLength, term => ConvolutionTaps(g, outChannels, groups, mode, (n, o, t, weight, input) => term((((n * outChannels) + o) * g.OutputLength) + t, o, weight, input)));

    /// <summary>Accumulates dweight and dbias (when the layer has one) of <see cref="Conv1d"/> into <paramref name="grads"/> and returns dx.</summary>
    public double[] Conv1dBackward(string name, double[] x, double[] dy, Conv1dGeometry g, int outChannels, Dictionary<string, double[]> grads, int groups = 1, PaddingMode mode = PaddingMode.Zeros)
        => ConvolveBackward(name, x, dy, outChannels, grads, term => ConvolutionTaps(g, outChannels, groups, mode, (n, o, t, weight, input) => term((((n * outChannels) + o) * g.OutputLength) + t, o, weight, input)));

    /// <summary>
    /// nn.Conv2d over x [N, C_in, H, W] with <c>{name}.weight</c> [C_out, C_in/G, kH, kW] and <c>{name}.bias</c> where
    /// present, in G = <paramref name="groups"/> groups, written by its definition: y[n, o, s, t] = b[o] + Σ_{c, i, j}
    /// w[o, c, i, j]·x[n, ⌊o/(C_out/G)⌋·C_in/G + c, s·strideH − top + i·dilationH, t·strideW − left + j·dilationW], the
    /// terms outside x (zero padding) left out.
    /// </summary>
    public double[] Conv2d(string name, double[] x, Conv2dGeometry g, int outChannels, int groups = 1)
        => Convolve(name, x, g.Batch * outChannels * g.OutputHeight * g.OutputWidth, term => ConvolutionTaps2d(g, outChannels, groups, term));

    /// <summary>Accumulates dweight and dbias (when the layer has one) of <see cref="Conv2d"/> into <paramref name="grads"/> and returns dx.</summary>
    public double[] Conv2dBackward(string name, double[] x, double[] dy, Conv2dGeometry g, int outChannels, Dictionary<string, double[]> grads, int groups = 1)
        => ConvolveBackward(name, x, dy, outChannels, grads, term => ConvolutionTaps2d(g, outChannels, groups, term));

    // y from the walk of a convolution's terms: term(y index, o, −1, −1) for the bias, term(y index, o, weight index,
    // input index) for each tap that reads x.
    private double[] Convolve(string name, double[] x, int outputLength, Action<Action<int, int, int, int>> walk)
    {
        var y = new double[outputLength];
        var b = Parameters.GetValueOrDefault($"{name}.bias");
        walk((at, o, weight, input) => y[at] += input < 0 ? (b?[o] ?? 0) : Parameters[$"{name}.weight"][weight] * x[input]);
        return y;
    }

    // dx, and dweight and dbias into grads, from the same walk.
    private double[] ConvolveBackward(string name, double[] x, double[] dy, int outChannels, Dictionary<string, double[]> grads, Action<Action<int, int, int, int>> walk)
    {
        var w = Parameters[$"{name}.weight"];
        var dw = Grad(grads, $"{name}.weight", w.Length);
        var db = Parameters.ContainsKey($"{name}.bias") ? Grad(grads, $"{name}.bias", outChannels) : null;
        var dx = new double[x.Length];
        walk((at, o, weight, input) =>
        {
            double gradient = dy[at];
            if (input < 0)
            {
                if (db is not null)
                {
                    db[o] += gradient;
                }
            }
            else
            {
                dw[weight] += gradient * x[input];
                dx[input] += gradient * w[weight];
            }
        });
        return dx;
    }

    // For every output (n, o, s, t): term(y index, o, −1, −1) for the bias, then term(y index, o, weight index, input
    // index) for every tap inside x, over the C_in/G input channels of o's group.
    private static void ConvolutionTaps2d(Conv2dGeometry g, int outChannels, int groups, Action<int, int, int, int> term)
    {
        var w = g.Window;
        int groupIn = g.Channels / groups, groupOut = outChannels / groups, at = 0;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                for (int s = 0; s < g.OutputHeight; s++)
                {
                    for (int t = 0; t < g.OutputWidth; t++, at++)
                    {
                        term(at, o, -1, -1);
                        for (int c = 0; c < groupIn; c++)
                        {
                            int channel = (o / groupOut * groupIn) + c;
                            for (int i = 0; i < w.KernelHeight; i++)
                            {
                                for (int j = 0; j < w.KernelWidth; j++)
                                {
                                    int h = (s * w.StrideHeight) - w.PaddingTop + (i * w.DilationHeight);
                                    int v = (t * w.StrideWidth) - w.PaddingLeft + (j * w.DilationWidth);
                                    if (h >= 0 && h < g.Height && v >= 0 && v < g.Width)
                                    {
                                        term(at, o, (((((o * groupIn) + c) * w.KernelHeight) + i) * w.KernelWidth) + j, (((((n * g.Channels) + channel) * g.Height) + h) * g.Width) + v);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // For every output (n, o, t): term(n, o, t, −1, −1) for the bias, then term(n, o, t, weight index, input index) for
    // every tap that reads x (zero padding reads nothing; another mode reads the position it copies), over the C_in/G
    // input channels of o's group.
    private static void ConvolutionTaps(Conv1dGeometry g, int outChannels, int groups, PaddingMode mode, Action<int, int, int, int, int> term)
    {
        int groupIn = g.Channels / groups, groupOut = outChannels / groups;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int o = 0; o < outChannels; o++)
            {
                for (int t = 0; t < g.OutputLength; t++)
                {
                    term(n, o, t, -1, -1);
                    for (int c = 0; c < groupIn; c++)
                    {
                        int channel = (o / groupOut * groupIn) + c;
                        for (int j = 0; j < g.KernelSize; j++)
                        {
                            int p = PaddedSource((t * g.Stride) - g.PaddingLeft + (j * g.Dilation), g.Length, mode);
                            if (p >= 0)
                            {
                                term(n, o, t, (((o * groupIn) + c) * g.KernelSize) + j, (((n * g.Channels) + channel) * g.Length) + p);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The position of x [.., L] that position p of its padding by <paramref name="mode"/> holds (p itself inside x), or
    /// −1 for a zero: reflect mirrors p about the ends until it lands inside, replicate clamps it, circular takes it
    /// modulo L, as torch.nn.functional.pad.
    /// </summary>
    public static int PaddedSource(int p, int length, PaddingMode mode)
    {
        if (p >= 0 && p < length)
        {
            return p;
        }

        switch (mode)
        {
            case PaddingMode.Reflect:
                while (p < 0 || p >= length)
                {
                    p = p < 0 ? -p : (2 * (length - 1)) - p;
                }

                return p;
            case PaddingMode.Replicate:
                return Math.Clamp(p, 0, length - 1);
            case PaddingMode.Circular:
                return ((p % length) + length) % length;
            default:
                return -1;
        }
    }

    /// <summary>
    /// Rows of <c>{name}.weight</c> [V, D] picked by <paramref name="indices"/>. With a <paramref name="paddingRow"/>, index
    /// <paramref name="paddingIdx"/> reads that copy instead, a constant that finite differences of the weight do not
    /// move: nn.Embedding's padding_idx, which makes the row no parameter of the loss.
    /// </summary>
    public double[] Embedding(string name, int[] indices, int dim, int paddingIdx = -1, double[]? paddingRow = null)
    {
        var table = Parameters[$"{name}.weight"];
        var y = new double[indices.Length * dim];
        for (int i = 0; i < indices.Length; i++)
        {
            if (indices[i] == paddingIdx && paddingRow is not null)
            {
                Array.Copy(paddingRow, 0, y, i * dim, dim);
            }
            else
            {
                Array.Copy(table, indices[i] * dim, y, i * dim, dim);
            }
        }

        return y;
    }

    /// <summary>dTable[indices[i]] += dy[i] for every i whose index is not <paramref name="paddingIdx"/> (−1: every i).</summary>
    public static void EmbeddingBackward(string name, int[] indices, double[] dy, int dim, Dictionary<string, double[]> grads, int rows, int paddingIdx = -1)
    {
        var dTable = Grad(grads, $"{name}.weight", rows * dim);
        for (int i = 0; i < indices.Length; i++)
        {
            if (indices[i] == paddingIdx)
            {
                continue;
            }

            for (int j = 0; j < dim; j++)
            {
                dTable[(indices[i] * dim) + j] += dy[(i * dim) + j];
            }
        }
    }

    /// <summary>nn.CrossEntropyLoss over rows of logits [N, C]; also returns dL/dlogits.</summary>
    public static (double Loss, double[] Gradient) CrossEntropy(double[] logits, int[] targets, int classes, bool sum, int ignoreIndex = -100)
    {
        int rows = targets.Length;
        int counted = targets.Count(t => t != ignoreIndex);
        double scale = sum ? 1 : 1.0 / counted;
        double loss = 0;
        var grad = new double[logits.Length];
        for (int r = 0; r < rows; r++)
        {
            if (targets[r] == ignoreIndex)
            {
                continue;
            }

            double max = double.NegativeInfinity;
            for (int c = 0; c < classes; c++)
            {
                max = Math.Max(max, logits[(r * classes) + c]);
            }

            double z = 0;
            for (int c = 0; c < classes; c++)
            {
                z += Math.Exp(logits[(r * classes) + c] - max);
            }

            loss += (Math.Log(z) + max - logits[(r * classes) + targets[r]]) * scale;
            for (int c = 0; c < classes; c++)
            {
                grad[(r * classes) + c] = ((Math.Exp(logits[(r * classes) + c] - max) / z) - (c == targets[r] ? 1 : 0)) * scale;
            }
        }

        return (loss, grad);
    }

    /// <summary>nn.Softmax(dim=-1) or nn.LogSoftmax(dim=-1) over rows of x [N, C], from the kernels' float64 reference.</summary>
    public static double[] Softmax(double[] x, int n, int classes, bool log)
    {
        var y = new double[x.Length];
        if (log)
        {
            ReferenceSoftmax.LogSoftmax(n, classes, x, y);
        }
        else
        {
            ReferenceSoftmax.WithTemperature(n, classes, x, y, 1.0);
        }

        return y;
    }

    /// <summary>dL/dx of <see cref="Softmax"/> from its output y and dL/dy.</summary>
    public static double[] SoftmaxBackward(double[] y, double[] dy, int n, int classes, bool log)
    {
        var dx = new double[y.Length];
        if (log)
        {
            ReferenceSoftmax.LogSoftmaxBackward(n, classes, y, dy, dx);
        }
        else
        {
            ReferenceSoftmax.SoftmaxBackward(n, classes, y, dy, dx);
        }

        return dx;
    }

    /// <summary>nn.NLLLoss over rows of log-probabilities [N, C]; also returns dL/dinput.</summary>
    public static (double Loss, double[] Gradient) Nll(double[] logProbabilities, int[] targets, int classes, bool sum, int ignoreIndex = -100)
    {
        double scale = sum ? 1 : 1.0 / targets.Count(t => t != ignoreIndex);
        double loss = 0;
        var grad = new double[logProbabilities.Length];
        for (int r = 0; r < targets.Length; r++)
        {
            if (targets[r] != ignoreIndex)
            {
                loss -= logProbabilities[(r * classes) + targets[r]] * scale;
                grad[(r * classes) + targets[r]] = -scale;
            }
        }

        return (loss, grad);
    }

    /// <summary>nn.MSELoss; also returns dL/dprediction.</summary>
    public static (double Loss, double[] Gradient) Mse(double[] prediction, double[] target, bool sum)
    {
        double scale = sum ? 1 : 1.0 / prediction.Length;
        double loss = 0;
        var grad = new double[prediction.Length];
        for (int i = 0; i < prediction.Length; i++)
        {
            double d = prediction[i] - target[i];
            loss += d * d * scale;
            grad[i] = 2 * d * scale;
        }

        return (loss, grad);
    }

    public void Randomize(int seed, params (string Name, int Length)[] parameters)
    {
        var random = new Random(seed);
        foreach (var (name, length) in parameters)
        {
            Parameters[name] = [.. Enumerable.Range(0, length).Select(_ => (random.NextDouble() * 1.6) - 0.8)];
        }
    }

    private static double[] Grad(Dictionary<string, double[]> grads, string name, int length)
    {
        if (!grads.TryGetValue(name, out var g))
        {
            g = new double[length];
            grads[name] = g;
        }

        return g;
    }
}
