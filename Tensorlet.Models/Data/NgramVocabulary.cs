using System.Globalization;
using System.Text;
using Tensorlet.Kernels;

namespace Tensorlet.Models.Data;

/// <summary>
/// The n-gram vocabulary of the notebook's n-gram model: index ↔ n-gram, every n-gram that appears as a window
/// input (<see cref="NgramWindows"/>) in the sequences it was built from, sorted ordinally. On the full corpus with
/// 10 windows per sequence it holds 584 n-grams for n=2, 4793 for n=3, 16674 for n=4 and 35232 for n=5.
/// An n-gram is n characters (Unicode scalar values), so its string has n UTF-16 code units, or up to 2n with
/// characters outside the Basic Multilingual Plane; the order is ordinal over those code units.
/// </summary>
public sealed class NgramVocabulary
{
    private readonly string[] ngrams;
    private readonly Dictionary<string, int> indexOf;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> spanLookup;

    private NgramVocabulary(int ngramOrder, string[] sortedDistinct)
    {
        NgramOrder = ngramOrder;
        ngrams = sortedDistinct;
        indexOf = new Dictionary<string, int>(sortedDistinct.Length, StringComparer.Ordinal);
        for (int i = 0; i < sortedDistinct.Length; i++)
        {
            indexOf.Add(sortedDistinct[i], i);
        }

        spanLookup = indexOf.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The n of the n-grams: characters (Unicode scalar values) per n-gram.</summary>
    public int NgramOrder { get; }

    /// <summary>The number of distinct n-grams.</summary>
    public int Count => ngrams.Length;

    /// <summary>The n-grams, in index order.</summary>
    public IReadOnlyList<string> Ngrams => ngrams;

    /// <summary>The n-gram at <paramref name="index"/>.</summary>
    public string this[int index] => ngrams[index];

    /// <summary>
    /// The inputs of the windows of <paramref name="sequences"/> (build it from the training sequences only).
    /// <paramref name="windowsPerSequence"/>: null takes every window.
    /// </summary>
    public static NgramVocabulary FromSequences(IEnumerable<string> sequences, int ngramOrder, int? windowsPerSequence = NgramWindows.NotebookWindowsPerSequence)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lookup = seen.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var sequence in sequences)
        {
            var starts = NgramWindows.CharacterStarts(sequence);
            int windows = NgramWindows.PerSequence(starts.Length - 1, ngramOrder, windowsPerSequence);
            for (int i = 0; i < windows; i++)
            {
                lookup.Add(NgramWindows.Ngram(sequence, starts, i, ngramOrder));
            }
        }

        return FromNgrams(ngramOrder, seen);
    }

    /// <summary>A vocabulary of the given n-grams (each of <paramref name="ngramOrder"/> characters; duplicates ignored; sorted ordinally).</summary>
    public static NgramVocabulary FromNgrams(int ngramOrder, IEnumerable<string> ngrams)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(ngramOrder);
        ArgumentNullException.ThrowIfNull(ngrams);
        var sorted = ngrams.Distinct(StringComparer.Ordinal).ToArray();
        foreach (var ngram in sorted)
        {
            if (CharVocabulary.CountCharacters(ngram) != ngramOrder)
            {
                throw new ArgumentException($"\"{ngram}\" is not an n-gram of {ngramOrder} characters.", nameof(ngrams));
            }
        }

        Array.Sort(sorted, StringComparer.Ordinal);
        return new NgramVocabulary(ngramOrder, sorted);
    }

    /// <summary>
    /// Reads a vocabulary written by <see cref="Serialize"/>: "n", a newline, then the n-grams concatenated.
    /// </summary>
    /// <exception cref="FormatException">The text is not in that form, or the n-grams are not strictly increasing.</exception>
    public static NgramVocabulary Deserialize(string serialized)
    {
        ArgumentNullException.ThrowIfNull(serialized);
        int newline = serialized.IndexOf('\n', StringComparison.Ordinal);
        if (newline <= 0 || !int.TryParse(serialized.AsSpan(0, newline), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0)
        {
            throw new FormatException("A serialized n-gram vocabulary starts with its n-gram length and a newline.");
        }

        // Each n-gram is the next n characters; with none outside the Basic Multilingual Plane, the next n code units.
        var body = serialized.AsSpan(newline + 1);
        var ngrams = new List<string>(body.Length / n);
        for (int at = 0; at < body.Length;)
        {
            int start = at;
            for (int c = 0; c < n; c++)
            {
                if (at == body.Length)
                {
                    throw new FormatException($"A serialized n-gram vocabulary of {n}-grams ends inside n-gram {ngrams.Count}.");
                }

                if (Rune.DecodeFromUtf16(body[at..], out _, out int used) != System.Buffers.OperationStatus.Done)
                {
                    throw new FormatException($"A serialized n-gram vocabulary holds an unpaired surrogate at position {newline + 1 + at}.");
                }

                at += used;
            }

            var ngram = new string(body[start..at]);
            if (ngrams.Count > 0 && string.CompareOrdinal(ngrams[^1], ngram) >= 0)
            {
                throw new FormatException($"A serialized n-gram vocabulary lists its n-grams in strictly increasing order; n-gram {ngrams.Count} breaks it.");
            }

            ngrams.Add(ngram);
        }

        return new NgramVocabulary(n, [.. ngrams]);
    }

    /// <summary>"n", a newline, then the n-grams concatenated in index order (each is n characters, so no separator is needed).</summary>
    public string Serialize()
    {
        var text = new StringBuilder(NgramOrder.ToString(CultureInfo.InvariantCulture), 8 + (Count * NgramOrder));
        text.Append('\n');
        foreach (var ngram in ngrams)
        {
            text.Append(ngram);
        }

        return text.ToString();
    }

    /// <summary>The index of <paramref name="ngram"/>, or -1 when it is not in the vocabulary.</summary>
    public int IndexOf(ReadOnlySpan<char> ngram) => spanLookup.TryGetValue(ngram, out int index) ? index : -1;

    /// <inheritdoc/>
    public override string ToString() => $"NgramVocabulary(n={NgramOrder}, {Count} n-grams)";
}
