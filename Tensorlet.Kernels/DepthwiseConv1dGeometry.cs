namespace Tensorlet.Kernels;

/// <summary>
/// The sizes of a depthwise 1-d convolution (nn.Conv1d with groups = C_in), shared by the CPU, ILGPU and reference
/// kernels: x is [N, C, L] as <see cref="Input"/> has it, the weight [C·m, 1, k] and y [N, C·m, L_out], output channel
/// o = c·m + j (j &lt; m, the depth <see cref="Multiplier"/>) reading input channel c alone:
/// y[n, o, t] = bias[o] + Σ_i weight[o, 0, i]·x[n, c, t·stride − left + i·dilation], the taps outside [0, L) being the
/// zero padding. L_out may be 0 (no output), and N too.
/// </summary>
/// <param name="Input">The input's sizes, the kernel size, the stride, the padding and the dilation, as an unfold's.</param>
/// <param name="Multiplier">m, the output channels per input channel, at least 1.</param>
internal readonly record struct DepthwiseConv1dGeometry(Conv1dGeometry Input, int Multiplier)
{
    /// <summary>C·m, the output's channels.</summary>
    public int OutputChannels => Input.Channels * Multiplier;

    /// <summary>
    /// The first output t whose taps all lie inside x, and the end of that run [<see cref="FirstInside"/>,
    /// <see cref="EndInside"/>): the outputs a loop may take without checking a tap. Both in [0, L_out].
    /// </summary>
    public int FirstInside => (int)Math.Min(Input.OutputLength, ((long)Input.PaddingLeft + Input.Stride - 1) / Input.Stride);

    /// <summary>The end of the run of outputs whose taps all lie inside x (see <see cref="FirstInside"/>).</summary>
    public int EndInside
    {
        get
        {
            // The last tap of output t is t·stride − left + (k − 1)·dilation ≤ L − 1.
            long reach = (long)Input.Length - 1 + Input.PaddingLeft - ((long)(Input.KernelSize - 1) * Input.Dilation);
            long end = reach < 0 ? 0 : Math.Min(Input.OutputLength, (reach / Input.Stride) + 1);
            return (int)Math.Max(FirstInside, end);
        }
    }

    /// <summary>The output position tap <paramref name="i"/> of which reads position <paramref name="l"/> of x, or −1 when none does.</summary>
    public int OutputReading(int l, int i)
    {
        // In long: l + left and i·dilation each may pass int.MaxValue.
        long shifted = (long)l + Input.PaddingLeft - ((long)i * Input.Dilation);
        return shifted >= 0 && shifted % Input.Stride == 0 && shifted / Input.Stride < Input.OutputLength ? (int)(shifted / Input.Stride) : -1;
    }
}
