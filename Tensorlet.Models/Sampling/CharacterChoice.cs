using Tensorlet.Kernels;

namespace Tensorlet.Models.Sampling;

/// <summary>
/// Picks the next character from a distribution on the host: the most likely one (temperature 0), or a draw among
/// all characters or among the <c>k</c> most likely ones, renormalized (nanoGPT's top-k: characters tied with the
/// k-th most likely stay in).
/// </summary>
internal static class CharacterChoice
{
    /// <summary>The index of the largest value; the first of equals.</summary>
    public static int Argmax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>
    /// The character whose cumulative probability first exceeds <paramref name="u"/> times the mass kept: all
    /// characters when <paramref name="topK"/> is 0 or at least the vocabulary, else those at least as likely as the
    /// <paramref name="topK"/>-th most likely. <paramref name="scratch"/> holds one float per character.
    /// </summary>
    public static int Draw(ReadOnlySpan<float> probabilities, int topK, double u, Span<float> scratch)
    {
        ArgumentChecks.ThrowIfNegative(topK);
        float threshold = 0;
        if (topK > 0 && topK < probabilities.Length)
        {
            var sorted = scratch[..probabilities.Length];
            probabilities.CopyTo(sorted);
            sorted.Sort();
            threshold = sorted[^topK];
        }

        double mass = 0;
        foreach (var p in probabilities)
        {
            if (p > 0 && p >= threshold)
            {
                mass += p;
            }
        }

        double target = u * mass;
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            float p = probabilities[i];
            if (p <= 0 || p < threshold)
            {
                continue;
            }

            cumulative += p;
            last = i;
            if (target < cumulative)
            {
                return i;
            }
        }

        // Rounding can leave the cumulative sum a hair below the target: the last possible character takes the rest.
        return last;
    }
}
