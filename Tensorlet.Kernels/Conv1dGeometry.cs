namespace Tensorlet.Kernels;

/// <summary>
/// The sizes of a 1-d convolution's unfold (im2col) and fold (col2im), shared by the CPU, ILGPU and reference kernels:
/// x is [Batch, Channels, Length]; its unfolded matrix has <see cref="Rows"/> = Batch·OutputLength rows of
/// <see cref="Width"/> = Channels·KernelSize, row n·OutputLength + t, column c·KernelSize + j holding
/// x[n, c, t·Stride − PaddingLeft + j·Dilation], or 0 where that position is outside [0, Length) (zero padding).
/// PaddingLeft and PaddingRight may differ (PyTorch's padding='same' for an even dilated kernel puts the extra zero on
/// the right); the right padding only adds output positions, so only <see cref="OutputLength"/> reads it.
/// With KernelSize 1, Stride 1, no padding and Dilation 1 (<see cref="Transpose"/>) the unfold is the transposition of
/// each [Channels, Length] matrix to [Length, Channels], and the fold its inverse.
/// </summary>
/// <param name="Batch">N.</param>
/// <param name="Channels">C.</param>
/// <param name="Length">L.</param>
/// <param name="KernelSize">k, at least 1.</param>
/// <param name="Stride">The step between output positions, at least 1.</param>
/// <param name="PaddingLeft">The zeros before x, at least 0.</param>
/// <param name="PaddingRight">The zeros after x, at least 0.</param>
/// <param name="Dilation">The step between kernel taps, at least 1.</param>
internal readonly record struct Conv1dGeometry(int Batch, int Channels, int Length, int KernelSize, int Stride, int PaddingLeft, int PaddingRight, int Dilation)
{
    /// <summary>The geometry with <paramref name="padding"/> zeros on each side of x.</summary>
    public Conv1dGeometry(int batch, int channels, int length, int kernelSize, int stride, int padding, int dilation)
        : this(batch, channels, length, kernelSize, stride, padding, padding, dilation)
    {
    }

    /// <summary>
    /// L_out = ⌊(L + left + right − dilation·(k − 1) − 1)/stride⌋ + 1, as torch.nn.Conv1d; 0 when the kernel does not fit.
    /// A geometry is made only for sizes whose <see cref="Rows"/> fits in an int (Ops checks them), so neither overflows.
    /// </summary>
    public int OutputLength => (int)OutputLengthOf(Length, KernelSize, Stride, PaddingLeft, PaddingRight, Dilation);

    /// <summary>The columns of the unfolded matrix, Channels·KernelSize.</summary>
    public int Width => Channels * KernelSize;

    /// <summary>The rows of the unfolded matrix, Batch·OutputLength.</summary>
    public int Rows => Batch * OutputLength;

    /// <summary>The geometry whose unfold takes x [batch, channels, length] to [batch·length, channels] and whose fold takes it back.</summary>
    public static Conv1dGeometry Transpose(int batch, int channels, int length) => new(batch, channels, length, 1, 1, 0, 0, 1);

    /// <summary>Throws, in one line naming the value, unless k, the stride and the dilation are at least 1 and the padding at least 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">One of them is out of range.</exception>
    public static void CheckSizes(int kernelSize, int stride, int padding, int dilation)
    {
        AtLeast(kernelSize, 1, nameof(kernelSize));
        AtLeast(stride, 1, nameof(stride));
        AtLeast(padding, 0, nameof(padding));
        AtLeast(dilation, 1, nameof(dilation));
    }

    /// <summary>Throws, in one line naming the value and <paramref name="layer"/>, when <paramref name="value"/> is below <paramref name="minimum"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is below <paramref name="minimum"/>.</exception>
    public static void AtLeast(int value, int minimum, string name, string layer = "convolution")
    {
        if (value < minimum)
        {
            // Without the actual value as an argument, whose text would go on a second line.
            throw new ArgumentOutOfRangeException(name, $"{Owner(layer)} {name} must be at least {minimum}; got {value}.");
        }
    }

    /// <summary>"A convolution's", "An AvgPool1d's": <paramref name="layer"/> as the owner of a size in a message.</summary>
    public static string Owner(string layer) => $"{("AEIOUaeiou".Contains(layer[0], StringComparison.Ordinal) ? "An" : "A")} {layer}'s";

    /// <summary>
    /// L_out for these sizes, floored as PyTorch floors it; 0 when the dilated kernel is wider than the padded input. A
    /// long: with the padding near int.MaxValue it is up to about 3·2³¹.
    /// </summary>
    public static long OutputLengthOf(int length, int kernelSize, int stride, int padding, int dilation)
        => OutputLengthOf(length, kernelSize, stride, padding, padding, dilation);

    /// <summary>L_out with <paramref name="paddingLeft"/> zeros before x and <paramref name="paddingRight"/> after it.</summary>
    public static long OutputLengthOf(int length, int kernelSize, int stride, int paddingLeft, int paddingRight, int dilation)
    {
        long span = (long)length + paddingLeft + paddingRight - ((long)dilation * (kernelSize - 1)) - 1;
        return span < 0 ? 0 : (span / stride) + 1;
    }
}
