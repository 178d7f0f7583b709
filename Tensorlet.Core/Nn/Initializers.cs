namespace Tensorlet.Nn;

/// <summary>PyTorch's default initialisations, drawn from a seeded generator.</summary>
public static class Initializers
{
    /// <summary>U(−bound, bound).</summary>
    public static Func<Random, float> Uniform(double bound) => random => (float)(((random.NextDouble() * 2) - 1) * bound);

    /// <summary>
    /// nn.Linear's weight and bias: kaiming_uniform_(a=√5) gives U(−1/√fanIn, 1/√fanIn) for the weight,
    /// and the bias uses the same bound.
    /// </summary>
    public static Func<Random, float> LinearDefault(int fanIn) => Uniform(fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0);

    /// <summary>nn.LSTM's default: every weight and bias from U(−1/√H, 1/√H).</summary>
    public static Func<Random, float> LstmDefault(int hiddenSize) => Uniform(1.0 / Math.Sqrt(hiddenSize));
}
