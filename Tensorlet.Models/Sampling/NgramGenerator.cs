using System.Text;
using Tensorlet.Kernels;
using Tensorlet.Models.Data;
using Tensorlet.Models.Modeling;

namespace Tensorlet.Models.Sampling;

/// <summary>
/// Generates characters from an <see cref="NgramMlp"/>: the last n characters, as one n-gram, give
/// the next-character distribution. A character is a Unicode scalar value (<see cref="Rune"/>), as in
/// <see cref="CharVocabulary"/>.
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
        ArgumentChecks.ThrowIfNegative(length);
        var text = new StringBuilder(length);
        foreach (var c in Stream(model, characters, ngrams, start, temperature, seed).Take(length))
        {
            text.Append(c.ToString());
        }

        return text.ToString();
    }

    /// <summary>
    /// Generates new characters after <paramref name="start"/> (at least n characters, all in the vocabulary) one at a
    /// time, as the caller asks for them, without end. Memory stays constant however many are taken. Temperature 0 takes
    /// the most likely character; <paramref name="topK"/> above 0 draws only among the k most likely.
    /// </summary>
    public static IEnumerable<Rune> Stream(NgramMlp model, CharVocabulary characters, NgramVocabulary ngrams, string start, float temperature, int seed, int topK = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(characters);
        ArgumentNullException.ThrowIfNull(ngrams);
        ArgumentNullException.ThrowIfNull(start);
        characters.Encode(start); // Throws UnknownCharacterException listing every character outside the vocabulary.
        int n = ngrams.NgramOrder;
        var runes = start.EnumerateRunes().ToArray();
        if (runes.Length < n)
        {
            throw new ArgumentException(
                $"The n-gram model needs a start text of at least n = {n} characters; \"{start}\" has {runes.Length}.", nameof(start));
        }

        ArgumentChecks.ThrowIfNegative(topK);
        CategoricalSampler.CheckTemperature(temperature);
        return Draws(model, characters, ngrams, runes[^n..], temperature, seed, topK);
    }

    private static IEnumerable<Rune> Draws(NgramMlp model, CharVocabulary characters, NgramVocabulary ngrams, Rune[] window, float temperature, int seed, int topK)
    {
        int n = window.Length;
        var random = new Random(seed);
        var context = new Rune[n];
        var units = new char[2 * n];
        using var input = model.Device.IndexZeros(1);
        using var sampler = new CategoricalSampler(model.Device, model.CharVocabularySize, seed, topK);
        var id = new int[1];
        while (true)
        {
            // KnownNgram may substitute characters of the context; the window keeps the text's real last n characters.
            window.CopyTo(context, 0);
            id[0] = KnownNgram(context, characters, ngrams, random, units);
            input.CopyFrom(id);
            var next = characters.RuneAt(sampler.Draw(model.Logits(input), temperature));
            Array.Copy(window, 1, window, 0, n - 1);
            window[n - 1] = next;
            yield return next;
        }
    }

    /// <summary>The id of <paramref name="context"/> (<paramref name="units"/>: a reusable buffer of 2n), substituting characters at random (boundedly) when it is unknown.</summary>
    internal static int KnownNgram(Rune[] context, CharVocabulary characters, NgramVocabulary ngrams, Random random, char[]? units = null)
    {
        units ??= new char[2 * context.Length];
        int id = IndexOf(context, ngrams, units);
        for (int attempt = 0; id < 0 && attempt < MaxSubstitutions; attempt++)
        {
            context[random.Next(context.Length)] = characters.RuneAt(random.Next(characters.Count));
            id = IndexOf(context, ngrams, units);
        }

        return id >= 0 ? id : random.Next(ngrams.Count);
    }

    /// <summary>The id of the n-gram of <paramref name="context"/>'s characters, written as UTF-16 into <paramref name="units"/> (2n long).</summary>
    private static int IndexOf(Rune[] context, NgramVocabulary ngrams, char[] units)
    {
        int length = 0;
        foreach (var rune in context)
        {
            length += rune.EncodeToUtf16(units.AsSpan(length));
        }

        return ngrams.IndexOf(units.AsSpan(0, length));
    }
}
