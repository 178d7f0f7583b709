using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Nn;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>
/// An activation as the tests run it: an <see cref="Activation"/> through the generic activation ops, or leaky ReLU with
/// its slope through its own ops (the one activation with a parameter). An <see cref="Activation"/> converts to a case,
/// leaky ReLU at nn.LeakyReLU's default slope, 0.01.
/// </summary>
public sealed record ActivationCase(Activation Function, float NegativeSlope = 0.01f)
{
    /// <summary>The cases of every activation: leaky ReLU at its default slope, at 0 (ReLU's values) and negative.</summary>
    public static readonly ActivationCase[] All =
    [
        Activation.Relu, Activation.Tanh, Activation.Sigmoid, Activation.Gelu, Activation.GeluTanh, Activation.Silu,
        Activation.LeakyRelu, new(Activation.LeakyRelu, 0f), new(Activation.LeakyRelu, -0.5f),
    ];

    private bool IsLeaky => Function == Activation.LeakyRelu;

    public static implicit operator ActivationCase(Activation function) => new(function);

    /// <summary>f(x) in float64.</summary>
    public double Reference(double x) => IsLeaky ? ReferenceActivation.LeakyRelu(x, NegativeSlope) : ReferenceActivation.Forward(Function, x);

    /// <summary>dy·f′(x) in float64, from the forward input x and output y.</summary>
    public double ReferenceBackward(double x, double y, double dy)
        => IsLeaky ? ReferenceActivation.LeakyReluBackward(x, dy, NegativeSlope) : ReferenceActivation.Backward(Function, x, y, dy);

    /// <summary>f(x) in float64, element by element.</summary>
    public double[] Reference(ReadOnlySpan<double> x)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = Reference(x[i]);
        }

        return y;
    }

    /// <summary>dy·f′(x) in float64, element by element.</summary>
    public double[] ReferenceBackward(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> dy)
    {
        var dx = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            dx[i] = ReferenceBackward(x[i], y[i], dy[i]);
        }

        return dx;
    }

    /// <summary>y = f(x) through Ops.</summary>
    public void Forward(Tensor x, Tensor y)
    {
        if (IsLeaky)
        {
            Ops.LeakyReluForward(x, y, NegativeSlope);
        }
        else
        {
            Ops.ActivationForward(Function, x, y);
        }
    }

    /// <summary>dx = dy·f′ through Ops.</summary>
    public void Backward(Tensor x, Tensor y, Tensor dy, Tensor dx)
    {
        if (IsLeaky)
        {
            Ops.LeakyReluBackward(x, dy, dx, NegativeSlope);
        }
        else
        {
            Ops.ActivationBackward(Function, x, y, dy, dx);
        }
    }

    /// <summary>The CPU forward loop at <paramref name="width"/>.</summary>
    internal void CpuForward(ReadOnlySpan<float> x, Span<float> y, int threads, CpuVectorWidth width)
    {
        if (IsLeaky)
        {
            CpuActivation.LeakyReluForward(x, y, NegativeSlope, threads, width);
        }
        else
        {
            CpuActivation.Forward(Function, x, y, threads, width);
        }
    }

    /// <summary>The CPU backward loop at <paramref name="width"/>.</summary>
    internal void CpuBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int threads, CpuVectorWidth width)
    {
        if (IsLeaky)
        {
            CpuActivation.LeakyReluBackward(x, dy, dx, NegativeSlope, threads, width);
        }
        else
        {
            CpuActivation.Backward(Function, x, y, dy, dx, threads, width);
        }
    }

    /// <summary>The module.</summary>
    public ActivationModule Module() => IsLeaky ? new LeakyRelu(NegativeSlope) : ActivationModule.Create(Function);

    /// <summary>The name a test case shows.</summary>
    public override string ToString() => IsLeaky ? FormattableString.Invariant($"LeakyRelu({NegativeSlope})") : Function.ToString();
}
