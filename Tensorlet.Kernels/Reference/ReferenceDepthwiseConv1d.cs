namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The float64 depthwise 1-d convolution and its backwards that the kernels are checked against, written from the
/// definition (<see cref="DepthwiseConv1dGeometry"/>) over one walk of every tap of every output: the forward reads
/// each tap from x, the backwards scatter each output's gradient onto the position it read (dx) and onto the weight
/// that read it (dW), where the kernels gather.
/// </summary>
internal static class ReferenceDepthwiseConv1d
{
    /// <summary>y [N, C·m, L_out] = bias (0 for none) + the taps of the weight [C·m, 1, k] over x [N, C, L].</summary>
    public static void Forward(DepthwiseConv1dGeometry g, double[] x, double[] weight, double[]? bias, double[] y)
    {
        for (int o = 0; o < g.Input.Batch * g.OutputChannels; o++)
        {
            for (int t = 0; t < g.Input.OutputLength; t++)
            {
                y[(o * g.Input.OutputLength) + t] = bias?[o % g.OutputChannels] ?? 0;
            }
        }

        ForEachTap(g, (output, tap, input) => y[output] += weight[tap] * x[input]);
    }

    /// <summary>dx [N, C, L] = 0, then each output's dy times the weight of each tap added where the tap read x.</summary>
    public static void BackwardInput(DepthwiseConv1dGeometry g, double[] dy, double[] weight, double[] dx)
    {
        Array.Clear(dx);
        ForEachTap(g, (output, tap, input) => dx[input] += dy[output] * weight[tap]);
    }

    /// <summary>dW [C·m, 1, k] += Σ over n and t of dy·x at each tap, and dbias [C·m] (when given) += Σ over n and t of dy.</summary>
    public static void BackwardWeight(DepthwiseConv1dGeometry g, double[] x, double[] dy, double[] weightGradient, double[]? biasGradient)
    {
        ForEachTap(g, (output, tap, input) => weightGradient[tap] += dy[output] * x[input]);
        if (biasGradient is not null)
        {
            for (int i = 0; i < dy.Length; i++)
            {
                biasGradient[i / g.Input.OutputLength % g.OutputChannels] += dy[i];
            }
        }
    }

    // Calls tap(y index, weight index, x index) for every tap of every output y[n, o, t] that reads inside x.
    private static void ForEachTap(DepthwiseConv1dGeometry g, Action<int, int, int> tap)
    {
        var c = g.Input;
        for (int n = 0; n < c.Batch; n++)
        {
            for (int o = 0; o < g.OutputChannels; o++)
            {
                int channel = o / g.Multiplier;
                for (int t = 0; t < c.OutputLength; t++)
                {
                    for (int i = 0; i < c.KernelSize; i++)
                    {
                        int position = (t * c.Stride) - c.PaddingLeft + (i * c.Dilation);
                        if (position >= 0 && position < c.Length)
                        {
                            tap((((n * g.OutputChannels) + o) * c.OutputLength) + t, (o * c.KernelSize) + i, (((n * c.Channels) + channel) * c.Length) + position);
                        }
                    }
                }
            }
        }
    }
}
