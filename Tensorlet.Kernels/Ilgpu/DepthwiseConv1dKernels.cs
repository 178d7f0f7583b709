using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The depthwise 1-d convolution and its backwards (<see cref="DepthwiseConv1dGeometry"/> has the layout). The forward
/// is one thread per element of y, which takes its taps in order; the input gradient one thread per element of x, which
/// sums the taps that read it, output channel by output channel and tap by tap. The weight and bias gradients are sums
/// over the N·L_out rows (n, t) of each output channel, in two deterministic stages as <see cref="BiasKernels"/> does its
/// column sums, because one thread per (output channel, tap) would leave a GPU mostly idle over long rows: first one
/// thread per (output channel, block of rows, tap) writes a double partial (blocks of <see cref="BiasKernels.RowsPerBlock"/>
/// rows, longer for a long kernel so that the partials stay few), then
/// one thread per (output channel, tap) adds its partials in block order. No two threads write the same element, so
/// there are no atomics, and every sum is deterministic.
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
    /// Stage 1 of the weight and bias gradients: for e = (o·blocks + b)·(k + 1) + i, partials[e] = Σ over the rows
    /// r = n·L_out + t of block b in order (from b·<paramref name="rowsPerBlock"/>, that many or up to N·L_out) of
    /// dy[n, o, t]·x[n, o/m, t·stride − left + i·dilation] for i &lt; k, the taps inside x, and of dy[n, o, t] for i = k
    /// (not written when <paramref name="bias"/> is 0). A warp's threads are the taps of consecutive blocks of one channel,
    /// so its reads stay within a few rows of dy and x.
    /// </summary>
    public static void BackwardWeightPartial(Index1D e, ArrayView<float> x, ArrayView<float> dy, ArrayView<double> partials, DepthwiseConv1dGeometry g, int blocks, int rowsPerBlock, int bias)
    {
        var c = g.Input;
        int taps = c.KernelSize + 1;
        int block = e / taps;
        int i = e - (block * taps);
        if (i == c.KernelSize && bias == 0)
        {
            return;
        }

        int o = block / blocks;
        int start = (block - (o * blocks)) * rowsPerBlock;
        int end = start + rowsPerBlock < c.Rows ? start + rowsPerBlock : c.Rows;
        int n = start / c.OutputLength;
        int t = start - (n * c.OutputLength);
        long output = ((long)n * g.OutputChannels + o) * c.OutputLength;
        long input = ((long)n * c.Channels + (o / g.Multiplier)) * c.Length;
        int offset = (i * c.Dilation) - c.PaddingLeft;
        double sum = 0;
        for (int r = start; r < end; r++)
        {
            int position = (t * c.Stride) + offset;
            if (i == c.KernelSize)
            {
                sum += dy[output + t];
            }
            else if ((uint)position < (uint)c.Length)
            {
                sum += (double)dy[output + t] * x[input + position];
            }

            // The next row: t + 1, or t = 0 of the next sample.
            if (++t == c.OutputLength)
            {
                t = 0;
                output += (long)g.OutputChannels * c.OutputLength;
                input += (long)c.Channels * c.Length;
            }
        }

        partials[e] = sum;
    }

    /// <summary>
    /// Stage 2: for e = o·(k + 1) + i, weightGradient[o, i] += Σ over the blocks b in order of partials[(o·blocks + b)·(k +
    /// 1) + i] for i &lt; k; for i = k, biasGradient[o] likewise (nothing for an empty bias). The sum is taken in double
    /// from the gradient's value and rounded once.
    /// </summary>
    public static void BackwardWeightFinish(Index1D e, ArrayView<double> partials, ArrayView<float> weightGradient, ArrayView<float> biasGradient, DepthwiseConv1dGeometry g, int blocks)
    {
        int taps = g.Input.KernelSize + 1;
        int o = e / taps;
        int i = e - (o * taps);
        bool isBias = i == g.Input.KernelSize;
        if (isBias && biasGradient.Length == 0)
        {
            return;
        }

        long at = ((long)o * blocks * taps) + i;
        double sum = isBias ? biasGradient[o] : weightGradient[(o * g.Input.KernelSize) + i];
        for (int b = 0; b < blocks; b++)
        {
            sum += partials[at + ((long)b * taps)];
        }

        if (isBias)
        {
            biasGradient[o] = (float)sum;
        }
        else
        {
            weightGradient[(o * g.Input.KernelSize) + i] = (float)sum;
        }
    }
}
