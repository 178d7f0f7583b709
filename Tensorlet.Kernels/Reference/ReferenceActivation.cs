namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 activations that the activation kernels are checked against.</summary>
internal static class ReferenceActivation
{
    private const double Kappa = 0.044715;
    private static readonly double SqrtTwoOverPi = Math.Sqrt(2 / Math.PI);

    /// <summary>f(x).</summary>
    public static double Forward(Activation activation, double x) => activation switch
    {
        Activation.Relu => x > 0 ? x : 0,
        Activation.Tanh => Math.Tanh(x),
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Activation.Gelu => x * NormalCdf(x),
        Activation.GeluTanh => 0.5 * x * (1 + Math.Tanh(TanhArgument(x))),
        Activation.Silu => x * Sigmoid(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>dy·f'(x), from the forward input x and output y = f(x), as the kernels take them.</summary>
    public static double Backward(Activation activation, double x, double y, double dy) => activation switch
    {
        Activation.Relu => y > 0 ? dy : 0,
        Activation.Tanh => dy * (1 - (y * y)),
        Activation.Sigmoid => dy * y * (1 - y),
        Activation.Gelu => dy * (NormalCdf(x) + (x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI))),
        Activation.GeluTanh => dy * GeluTanhDerivative(x),
        Activation.Silu => dy * Sigmoid(x) * (1 + (x * (1 - Sigmoid(x)))),
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

    /// <summary>Leaky ReLU, x for x &gt; 0 else <paramref name="negativeSlope"/>·x.</summary>
    public static double LeakyRelu(double x, double negativeSlope) => x > 0 ? x : negativeSlope * x;

    /// <summary>dy·Leaky ReLU′(x): dy for x &gt; 0, else <paramref name="negativeSlope"/>·dy (at 0 too, as PyTorch).</summary>
    public static double LeakyReluBackward(double x, double dy, double negativeSlope) => x > 0 ? dy : negativeSlope * dy;

    /// <summary>σ(x) = 1/(1 + exp(−x)).</summary>
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>Φ(x) = 0.5·erfc(−x/√2), the standard normal's distribution function, accurate far into its left tail.</summary>
    private static double NormalCdf(double x) => 0.5 * ReferenceErf.Erfc(-x / Math.Sqrt(2));

    /// <summary>u = √(2/π)·(x + 0.044715·x³), the tanh form's argument.</summary>
    private static double TanhArgument(double x) => SqrtTwoOverPi * (x + (Kappa * x * x * x));

    /// <summary>d/dx of 0.5·x·(1 + tanh u) = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²).</summary>
    private static double GeluTanhDerivative(double x)
    {
        double t = Math.Tanh(TanhArgument(x));
        return (0.5 * (1 + t)) + (0.5 * x * (1 - (t * t)) * SqrtTwoOverPi * (1 + (3 * Kappa * x * x)));
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
