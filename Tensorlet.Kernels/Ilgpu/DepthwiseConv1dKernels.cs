using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The depthwise 1-d convolution and its backwards (<see cref="DepthwiseConv1dGeometry"/> has the layout). The forward
/// is one thread per element of y, which takes its taps in order; the input gradient one thread per element of x, which
/// sums the taps that read it, output channel by output channel and tap by tap; the weight gradient one thread per
/// (output channel, tap), and one more per channel for the bias, each summing over n and t in order. No two threads
/// write the same element, so there are no atomics, and every sum is deterministic. The weight gradient's threads are
/// few (C·m·(k + 1)) and each sums N·L_out terms: the reduction is serial per thread rather than split across a block,
/// which keeps it free of atomics and of a second pass.
/// </summary>
internal static class DepthwiseConv1dKernels
{
    /// <summary>y[e] for e = (n·C·m + o)·L_out + t: bias[o] (none for an empty bias) + Σ_i weight[o, i]·x[n, o/m, t·stride − left + i·dilation], the taps inside x.</summary>
    public static void Forward(Index1D e, ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y, DepthwiseConv1dGeometry g)
    {
        var c = g.Input;
        int row = e / c.OutputLength;
        int t = e - (row * c.OutputLength);
        int n = row / g.OutputChannels;
        int o = row - (n * g.OutputChannels);
        long input = ((long)n * c.Channels + (o / g.Multiplier)) * c.Length;
        int first = (t * c.Stride) - c.PaddingLeft;
        float sum = bias.Length > 0 ? bias[o] : 0f;
        for (int i = 0; i < c.KernelSize; i++)
        {
            int position = first + (i * c.Dilation);
            if ((uint)position < (uint)c.Length)
            {
                sum += weight[(o * c.KernelSize) + i] * x[input + position];
            }
        }

        y[e] = sum;
    }

    /// <summary>dx[e] for e = (n·C + ch)·L + l: Σ over the output channels o = ch·m + j in order, then the taps i in order, of weight[o, i]·dy[n, o, t] for the output t whose tap i reads l.</summary>
    public static void BackwardInput(Index1D e, ArrayView<float> dy, ArrayView<float> weight, ArrayView<float> dx, DepthwiseConv1dGeometry g)
    {
        var c = g.Input;
        int row = e / c.Length;
        int l = e - (row * c.Length);
        int n = row / c.Channels;
        int channel = row - (n * c.Channels);
        float sum = 0f;
        for (int j = 0; j < g.Multiplier; j++)
        {
            int o = (channel * g.Multiplier) + j;
            long output = ((long)n * g.OutputChannels + o) * c.OutputLength;
            for (int i = 0; i < c.KernelSize; i++)
            {
                int t = g.OutputReading(l, i);
                if (t >= 0)
                {
                    sum += weight[(o * c.KernelSize) + i] * dy[output + t];
                }
            }
        }

        dx[e] = sum;
    }

    /// <summary>
    /// For e = o·(k + 1) + i: weightGradient[o, i] += Σ over n, then t, of dy[n, o, t]·x[n, o/m, t·stride − left +
    /// i·dilation] for i &lt; k; for i = k, biasGradient[o] += Σ over n, then t, of dy[n, o, t] (nothing for an empty bias).
    /// </summary>
    public static void BackwardWeight(Index1D e, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> weightGradient, ArrayView<float> biasGradient, DepthwiseConv1dGeometry g)
    {
        var c = g.Input;
        int taps = c.KernelSize + 1;
        int o = e / taps;
        int i = e - (o * taps);
        if (i == c.KernelSize && biasGradient.Length == 0)
        {
            return;
        }

        int channel = o / g.Multiplier;
        float sum = 0f;
        for (int n = 0; n < c.Batch; n++)
        {
            long output = ((long)n * g.OutputChannels + o) * c.OutputLength;
            long input = ((long)n * c.Channels + channel) * c.Length;
            for (int t = 0; t < c.OutputLength; t++)
            {
                int position = (t * c.Stride) - c.PaddingLeft + (i * c.Dilation);
                if (i == c.KernelSize)
                {
                    sum += dy[output + t];
                }
                else if ((uint)position < (uint)c.Length)
                {
                    sum += dy[output + t] * x[input + position];
                }
            }
        }

        if (i == c.KernelSize)
        {
            biasGradient[o] += sum;
        }
        else
        {
            weightGradient[(o * c.KernelSize) + i] += sum;
        }
    }
}
