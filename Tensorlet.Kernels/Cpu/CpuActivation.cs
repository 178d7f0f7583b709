namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The CPU activation kernels, forward and backward: one operator struct each, from ActivationOperators.cs. With one
/// thread they run on the calling thread, so a kernel that runs its own threads (the RNN's fused recurrence,
/// <see cref="CpuRnnRecurrence"/>) applies them to its share of the elements with the very same code.
/// </summary>
internal static class CpuActivation
{
    /// <summary>y = f(x); y may be x. At most <paramref name="width"/> wide.</summary>
    public static void Forward(Activation activation, ReadOnlySpan<float> x, Span<float> y, int threads, CpuVectorWidth width)
    {
        switch (activation)
        {
            case Activation.Relu:
                CpuElementwise.UnaryParallel(x, y, default(ReluOperator), threads, width);
                break;
            case Activation.Tanh:
                CpuElementwise.UnaryParallel(x, y, default(TanhOperator), threads, width);
                break;
            case Activation.Sigmoid:
                CpuElementwise.UnaryParallel(x, y, default(SigmoidOperator), threads, width);
                break;
            case Activation.Gelu:
                CpuElementwise.UnaryParallel(x, y, default(GeluOperator), threads, width);
                break;
            case Activation.GeluTanh:
                CpuElementwise.UnaryParallel(x, y, default(GeluTanhOperator), threads, width);
                break;
            case Activation.Silu:
                CpuElementwise.UnaryParallel(x, y, default(SiluOperator), threads, width);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), $"Unknown activation {activation}.");
        }
    }

    /// <summary>
    /// dx = dy·f'(x), from the forward input x or output y = f(x), whichever f' is written through: relu y &gt; 0,
    /// tanh 1 − y², sigmoid y(1 − y), GELU, its tanh form and SiLU x. dx may be dy.
    /// </summary>
    public static void Backward(Activation activation, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int threads, CpuVectorWidth width)
    {
        switch (activation)
        {
            case Activation.Relu:
                CpuElementwise.BinaryParallel(y, dy, dx, default(ReluBackwardOperator), threads, width);
                break;
            case Activation.Tanh:
                CpuElementwise.BinaryParallel(y, dy, dx, default(TanhBackwardOperator), threads, width);
                break;
            case Activation.Sigmoid:
                CpuElementwise.BinaryParallel(y, dy, dx, default(SigmoidBackwardOperator), threads, width);
                break;
            case Activation.Gelu:
                CpuElementwise.BinaryParallel(x, dy, dx, default(GeluBackwardOperator), threads, width);
                break;
            case Activation.GeluTanh:
                CpuElementwise.BinaryParallel(x, dy, dx, default(GeluTanhBackwardOperator), threads, width);
                break;
            case Activation.Silu:
                CpuElementwise.BinaryParallel(x, dy, dx, default(SiluBackwardOperator), threads, width);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), $"Unknown activation {activation}.");
        }
    }

    /// <summary>y = x for x &gt; 0, else <paramref name="negativeSlope"/>·x (<see cref="Activation.LeakyRelu"/>); y may be x. At most <paramref name="width"/> wide.</summary>
    public static void LeakyReluForward(ReadOnlySpan<float> x, Span<float> y, float negativeSlope, int threads, CpuVectorWidth width)
        => CpuElementwise.UnaryParallel(x, y, new LeakyReluOperator(negativeSlope), threads, width);

    /// <summary>dx = dy for x &gt; 0, else <paramref name="negativeSlope"/>·dy, from the forward input x; dx may be dy.</summary>
    public static void LeakyReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float negativeSlope, int threads, CpuVectorWidth width)
        => CpuElementwise.BinaryParallel(x, dy, dx, new LeakyReluBackwardOperator(negativeSlope), threads, width);
}
