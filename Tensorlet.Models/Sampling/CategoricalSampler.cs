namespace Tensorlet.Models.Sampling;

/// <summary>
/// Temperature softmax on the device, then a seeded multinomial draw on the host. Buffers are
/// reused across draws.
/// </summary>
internal sealed class CategoricalSampler(Device device, int vocabularySize, int seed) : IDisposable
{
    private readonly Tensor probabilities = device.Zeros(1, vocabularySize);
    private readonly float[] host = new float[vocabularySize];
    private readonly Random random = new(seed);

    /// <summary>softmax(logits / temperature) of a [1, V] row, copied to the host.</summary>
    public ReadOnlySpan<float> Distribution(Tensor logitsRow, float temperature)
    {
        Ops.SoftmaxWithTemperature(logitsRow, probabilities, temperature);
        probabilities.CopyTo(host);
        return host;
    }

    /// <summary>Draws a character id from softmax(logits / temperature).</summary>
    public int Draw(Tensor logitsRow, float temperature)
    {
        var p = Distribution(logitsRow, temperature);
        double u = random.NextDouble();
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0)
            {
                continue;
            }

            cumulative += p[i];
            last = i;
            if (u < cumulative)
            {
                return i;
            }
        }

        // Rounding can leave the cumulative sum a hair below 1: the last possible character takes the rest.
        return last;
    }

    public void Dispose() => probabilities.Dispose();
}
