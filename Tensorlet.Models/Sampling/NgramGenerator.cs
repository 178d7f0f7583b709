using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Models.Sampling;

/// <summary>
/// Generates characters from an <see cref="NgramMlp"/>: the last n characters, as one n-gram, give
/// the next-character distribution.
/// <para>
/// An n-gram the model never saw has no input row. Like the notebook, the generator then replaces
/// characters of that context at random until the n-gram is known; unlike the notebook's loop, it
/// gives up after <see cref="MaxSubstitutions"/> tries and uses a known n-gram drawn at random, so it
/// always ends. The substitution only changes the context used for the prediction, never the text.
/// </para>
/// </summary>
public static class NgramGenerator
{
    /// <summary>Random single-character substitutions tried before falling back to a random known n-gram.</summary>
    public const int MaxSubstitutions = 1000;

    /// <summary>
    /// Generates <paramref name="length"/> new characters after <paramref name="start"/>, which needs at
    /// least n characters, all in the vocabulary.
    /// </summary>
    public static string Generate(NgramMlp model, CharVocabulary characters, NgramVocabulary ngrams, string start, int length, float temperature, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var text = new System.Text.StringBuilder(length);
        foreach (char c in Stream(model, characters, ngrams, start, temperature, seed))
        {
            if (text.Length == length)
            {
                break;
            }

            text.Append(c);
        }

        return text.ToString();
    }

    /// <summary>
    /// Generates new characters after <paramref name="start"/> (at least n characters, all in the vocabulary) one at a
    /// time, as the caller asks for them, without end. Memory stays constant however many are taken. Temperature 0 takes
    /// the most likely character; <paramref name="topK"/> above 0 draws only among the k most likely.
    /// </summary>
    public static IEnumerable<char> Stream(NgramMlp model, CharVocabulary characters, NgramVocabulary ngrams, string start, float temperature, int seed, int topK = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(characters);
        ArgumentNullException.ThrowIfNull(ngrams);
        ArgumentNullException.ThrowIfNull(start);
        characters.Encode(start); // Throws UnknownCharacterException listing every character outside the vocabulary.
        int n = ngrams.NgramOrder;
        if (start.Length < n)
        {
            throw new ArgumentException(
                $"The n-gram model needs a start text of at least n = {n} characters; \"{start}\" has {start.Length}.", nameof(start));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(topK);
        return Draws(model, characters, ngrams, start[^n..], temperature, seed, topK);
    }

    private static IEnumerable<char> Draws(NgramMlp model, CharVocabulary characters, NgramVocabulary ngrams, string last, float temperature, int seed, int topK)
    {
        int n = last.Length;
        var random = new Random(seed);
        var window = last.ToCharArray();
        var context = new char[n];
        using var input = model.Device.IndexZeros(1);
        using var sampler = new CategoricalSampler(model.Device, model.CharVocabularySize, seed, topK);
        var id = new int[1];
        while (true)
        {
            // KnownNgram may substitute characters of the context; the window keeps the text's real last n characters.
            window.CopyTo(context, 0);
            id[0] = KnownNgram(context, characters, ngrams, random);
            input.CopyFrom(id);
            char next = characters[sampler.Draw(model.Logits(input), temperature)];
            Array.Copy(window, 1, window, 0, n - 1);
            window[n - 1] = next;
            yield return next;
        }
    }

    /// <summary>The id of <paramref name="context"/>, substituting characters at random (boundedly) when it is unknown.</summary>
    internal static int KnownNgram(char[] context, CharVocabulary characters, NgramVocabulary ngrams, Random random)
    {
        int id = ngrams.IndexOf(context);
        for (int attempt = 0; id < 0 && attempt < MaxSubstitutions; attempt++)
        {
            context[random.Next(context.Length)] = characters[random.Next(characters.Count)];
            id = ngrams.IndexOf(context);
        }

        return id >= 0 ? id : random.Next(ngrams.Count);
    }
}
