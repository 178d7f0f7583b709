namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 activations that the activation kernels are checked against.</summary>
internal static class ReferenceActivation
{
    /// <summary>f(x).</summary>
    public static double Forward(Activation activation, double x) => activation switch
    {
        Activation.Relu => x > 0 ? x : 0,
        Activation.Tanh => Math.Tanh(x),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>dy·f'(x), from the forward input x and output y = f(x), as the kernels take them.</summary>
    public static double Backward(Activation activation, double x, double y, double dy) => activation switch
    {
        Activation.Relu => y > 0 ? dy : 0,
        Activation.Tanh => dy * (1 - (y * y)),
        Activation.Sigmoid => dy * y * (1 - y),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>y[i] = f(x[i]).</summary>
    public static void Forward(Activation activation, ReadOnlySpan<double> x, Span<double> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = Forward(activation, x[i]);
        }
    }

    /// <summary>dx[i] = dy[i]·f'(x[i]), from x[i] and y[i] = f(x[i]).</summary>
    public static void Backward(Activation activation, ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> dy, Span<double> dx)
    {
        for (int i = 0; i < y.Length; i++)
        {
            dx[i] = Backward(activation, x[i], y[i], dy[i]);
        }
    }
}
