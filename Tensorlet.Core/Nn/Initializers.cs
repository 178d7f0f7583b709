namespace Tensorlet.Nn;

/// <summary>PyTorch's default initialisations, drawn from a seeded generator.</summary>
internal static class Initializers
{
    /// <summary>U(−bound, bound).</summary>
    public static Func<Random, float> Uniform(double bound) => random => (float)(((random.NextDouble() * 2) - 1) * bound);

    /// <summary>N(0, 1) by the Box–Muller transform: nn.Embedding's default.</summary>
    public static Func<Random, float> StandardNormal() => random =>
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    };

    /// <summary>
    /// nn.Embedding's default with padding_idx: every element of a [rows, <paramref name="columns"/>] table drawn as
    /// <see cref="StandardNormal"/> draws it (so the other rows are what they would be without padding), then row
    /// <paramref name="zeroRow"/> set to 0. It counts the elements it is asked for, so it serves one table, drawn once
    /// in row-major order, as <see cref="ParameterCollection.Add"/> draws a parameter.
    /// </summary>
    public static Func<Random, float> StandardNormalZeroRow(int columns, int zeroRow)
    {
        var normal = StandardNormal();
        long start = (long)zeroRow * columns, end = start + columns, element = 0;
        return random =>
        {
            float value = normal(random);
            long e = element++;
            return e >= start && e < end ? 0f : value;
        };
    }

    /// <summary>
    /// nn.Linear's weight and bias: kaiming_uniform_(a=√5) gives U(−1/√fanIn, 1/√fanIn) for the weight,
    /// and the bias uses the same bound.
    /// </summary>
    public static Func<Random, float> LinearDefault(int fanIn) => Uniform(fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0);

    /// <summary>nn.LSTM's and nn.GRU's default: every weight and bias from U(−1/√H, 1/√H).</summary>
    public static Func<Random, float> RnnDefault(int hiddenSize) => Uniform(1.0 / Math.Sqrt(hiddenSize));
}
