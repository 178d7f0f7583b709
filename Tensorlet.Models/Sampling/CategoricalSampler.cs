using System.Globalization;

namespace Tensorlet.Models.Sampling;

/// <summary>
/// Temperature softmax on the device, then a seeded draw on the host, optionally among the <c>topK</c> most likely
/// characters only; temperature 0 takes the most likely character. Buffers are reused across draws.
/// </summary>
internal sealed class CategoricalSampler(Device device, int vocabularySize, int seed, int topK = 0) : IDisposable
{
    private readonly Tensor probabilities = device.Zeros(1, vocabularySize);
    private readonly float[] host = new float[vocabularySize];
    private readonly float[] scratch = new float[vocabularySize];
    private readonly Random random = new(seed);

    /// <summary>softmax(logits / temperature) of a [1, V] row, copied to the host.</summary>
    /// <exception cref="InvalidOperationException">The logits hold NaN or infinity, so there is no distribution.</exception>
    public ReadOnlySpan<float> Distribution(Tensor logitsRow, float temperature)
    {
        Ops.SoftmaxWithTemperature(logitsRow, probabilities, temperature);
        probabilities.CopyTo(host);

        // A non-finite logit makes every probability NaN, and a draw from NaNs would return one id forever, as
        // torch.multinomial refuses such a tensor.
        foreach (float p in host)
        {
            if (!float.IsFinite(p))
            {
                throw new InvalidOperationException("The model's output holds NaN or infinity, so there is no distribution to sample from; its weights or its input state are not finite.");
            }
        }

        return host;
    }

    /// <summary>Draws a character id from softmax(logits / temperature), or takes the argmax at temperature 0.</summary>
    public int Draw(Tensor logitsRow, float temperature)
    {
        if (temperature == 0)
        {
            return CharacterChoice.Argmax(Distribution(logitsRow, 1));
        }

        return CharacterChoice.Draw(Distribution(logitsRow, temperature), topK, random.NextDouble(), scratch);
    }

    public void Dispose() => probabilities.Dispose();

    /// <summary>Throws unless <paramref name="temperature"/> is 0 (the argmax) or a positive finite number, before any draw.</summary>
    public static void CheckTemperature(float temperature)
    {
        if (!(temperature >= 0f) || float.IsPositiveInfinity(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), string.Create(CultureInfo.InvariantCulture, $"Temperature must be 0 (always the most likely token) or a positive finite number; got {temperature}."));
        }
    }
}
