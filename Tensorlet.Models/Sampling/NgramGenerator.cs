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
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(characters);
        ArgumentNullException.ThrowIfNull(ngrams);
        ArgumentNullException.ThrowIfNull(start);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        characters.Encode(start); // Throws UnknownCharacterException listing every character outside the vocabulary.
        int n = ngrams.NgramOrder;
        if (start.Length < n)
        {
            throw new ArgumentException(
                $"The n-gram model needs a start text of at least n = {n} characters; \"{start}\" has {start.Length}.", nameof(start));
        }

        var random = new Random(seed);
        var text = new System.Text.StringBuilder(start, start.Length + length);
        var context = new char[n];
        using var input = model.Device.IndexZeros(1);
        using var sampler = new CategoricalSampler(model.Device, model.CharVocabularySize, seed);
        for (int i = 0; i < length; i++)
        {
            text.CopyTo(text.Length - n, context, n);
            input.CopyFrom([KnownNgram(context, characters, ngrams, random)]);
            var logits = model.Logits(input);
            text.Append(characters[sampler.Draw(logits, temperature)]);
        }

        return text.ToString(start.Length, length);
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
