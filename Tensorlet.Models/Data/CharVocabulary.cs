using System.Text;
using Tensorlet.Kernels;

namespace Tensorlet.Models.Data;

/// <summary>
/// A character vocabulary: index ↔ character, where a character is a Unicode scalar value (<see cref="Rune"/>), so an
/// accented letter, a CJK ideograph or an emoji is one character. Characters are sorted by scalar value (for the
/// 20 Newsgroups corpus: space ! , . ; ? a–z, so space is 0 and 'z' is 31). Serializes to the string of its
/// characters, for checkpoint metadata; a vocabulary saved before characters were runes reads back unchanged.
/// </summary>
public sealed class CharVocabulary : IEquatable<CharVocabulary>
{
    private readonly Rune[] characters;
    private readonly int[] basicIndexOf; // [scalar] = index + 1, 0 when absent; sized to the largest character below U+10000
    private readonly Dictionary<int, int>? supplementaryIndexOf; // scalar → index for characters from U+10000

    private CharVocabulary(Rune[] sortedDistinct)
    {
        characters = sortedDistinct;
        int basicEnd = 0;
        foreach (var rune in sortedDistinct)
        {
            if (rune.IsBmp)
            {
                basicEnd = rune.Value + 1;
            }
            else
            {
                supplementaryIndexOf ??= [];
            }
        }

        basicIndexOf = new int[basicEnd];
        for (int i = 0; i < sortedDistinct.Length; i++)
        {
            int value = sortedDistinct[i].Value;
            if (value < basicEnd)
            {
                basicIndexOf[value] = i + 1;
            }
            else
            {
                supplementaryIndexOf![value] = i;
            }
        }
    }

    /// <summary>
    /// How a message shows a character: <c>'x'</c> (the space too: <c>' '</c>), or <c>U+000A</c> for a control or other
    /// white-space character, which would not print, or would break the line.
    /// </summary>
    public static string Quote(Rune character)
        => Rune.IsControl(character) || (Rune.IsWhiteSpace(character) && character.Value != ' ') ? $"U+{character.Value:X4}" : $"'{character}'";

    /// <summary>
    /// The characters of this vocabulary that <paramref name="other"/> lacks, quoted (<see cref="Quote"/>) and joined
    /// with commas: the first <paramref name="listed"/>, then "and N more"; empty when it lacks none.
    /// </summary>
    public string QuoteMissingFrom(CharVocabulary other, int listed = 8)
    {
        ArgumentNullException.ThrowIfNull(other);
        ArgumentChecks.ThrowIfNegativeOrZero(listed);
        var missing = characters.Where(c => !other.Contains(c)).ToArray();
        string more = missing.Length > listed ? $" and {missing.Length - listed} more" : "";
        return string.Join(", ", missing.Take(listed).Select(Quote)) + more;
    }

    /// <summary>The number of characters.</summary>
    public int Count => characters.Length;

    /// <summary>The characters, in index order.</summary>
    public IReadOnlyList<Rune> Runes => characters;

    /// <summary>
    /// The character at <paramref name="index"/> as one UTF-16 code unit, for vocabularies of the Basic Multilingual
    /// Plane (the 20 Newsgroups one); <see cref="RuneAt"/> reads any character.
    /// </summary>
    /// <exception cref="InvalidOperationException">The character lies outside the Basic Multilingual Plane (e.g. an emoji).</exception>
    public char this[int index]
    {
        get
        {
            var rune = characters[index];
            return rune.IsBmp
                ? (char)rune.Value
                : throw new InvalidOperationException($"Character {index} (U+{rune.Value:X}) takes two UTF-16 code units; read it with {nameof(RuneAt)}.");
        }
    }

    /// <summary>The character at <paramref name="index"/>.</summary>
    public Rune RuneAt(int index) => characters[index];

    /// <summary>The vocabulary of every character in <paramref name="texts"/>.</summary>
    /// <exception cref="ArgumentException">A text holds an unpaired surrogate, which is no character.</exception>
    public static CharVocabulary FromTexts(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var seen = new HashSet<Rune>();
        foreach (var text in texts)
        {
            for (int i = 0; i < text.Length;)
            {
                var (rune, used) = DecodeOne(text, i, nameof(texts));
                seen.Add(rune);
                i += used;
            }
        }

        return FromRunes(seen);
    }

    /// <summary>The vocabulary of the given characters (duplicates ignored; sorted ordinally).</summary>
    /// <exception cref="ArgumentException">A character is a surrogate code unit, which is half a character.</exception>
    public static CharVocabulary FromCharacters(IEnumerable<char> characters)
    {
        ArgumentNullException.ThrowIfNull(characters);
        return FromRunes(characters.Select(c => Rune.TryCreate(c, out var rune)
            ? rune
            : throw new ArgumentException($"U+{(int)c:X4} is half of a surrogate pair, not a character.", nameof(characters))));
    }

    /// <summary>The vocabulary of the given characters (duplicates ignored; sorted by scalar value).</summary>
    public static CharVocabulary FromRunes(IEnumerable<Rune> characters)
    {
        ArgumentNullException.ThrowIfNull(characters);
        var sorted = characters.Distinct().ToArray();
        Array.Sort(sorted);
        return new CharVocabulary(sorted);
    }

    /// <summary>Reads a vocabulary written by <see cref="Serialize"/>: its characters, strictly increasing.</summary>
    /// <exception cref="FormatException">The characters are not strictly increasing, or the text holds an unpaired surrogate.</exception>
    public static CharVocabulary Deserialize(string serialized)
    {
        ArgumentNullException.ThrowIfNull(serialized);
        var runes = new List<Rune>(serialized.Length);
        for (int i = 0; i < serialized.Length;)
        {
            if (Rune.DecodeFromUtf16(serialized.AsSpan(i), out var rune, out int used) != System.Buffers.OperationStatus.Done)
            {
                throw new FormatException($"A serialized character vocabulary holds an unpaired surrogate at position {i}.");
            }

            if (runes.Count > 0 && rune.Value <= runes[^1].Value)
            {
                throw new FormatException($"A serialized character vocabulary lists its characters in strictly increasing order; position {i} breaks it.");
            }

            runes.Add(rune);
            i += used;
        }

        return new CharVocabulary([.. runes]);
    }

    /// <summary>The characters as one string, in index order (e.g. " !,.;?abcdefghijklmnopqrstuvwxyz").</summary>
    public string Serialize() => string.Concat(characters.Select(r => r.ToString()));

    /// <summary>The index of <paramref name="c"/>, or -1 when it is not in the vocabulary (or is a surrogate code unit).</summary>
    public int IndexOf(char c) => c < basicIndexOf.Length ? basicIndexOf[c] - 1 : -1;

    /// <summary>The index of <paramref name="rune"/>, or -1 when it is not in the vocabulary.</summary>
    public int IndexOf(Rune rune)
    {
        int value = rune.Value;
        if (value < basicIndexOf.Length)
        {
            return basicIndexOf[value] - 1;
        }

        return supplementaryIndexOf is not null && supplementaryIndexOf.TryGetValue(value, out int index) ? index : -1;
    }

    /// <summary>Whether <paramref name="c"/> is in the vocabulary.</summary>
    public bool Contains(char c) => IndexOf(c) >= 0;

    /// <summary>Whether <paramref name="rune"/> is in the vocabulary.</summary>
    public bool Contains(Rune rune) => IndexOf(rune) >= 0;

    /// <summary>The number of characters (Unicode scalar values) in <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">The text holds an unpaired surrogate.</exception>
    public static int CountCharacters(ReadOnlySpan<char> text)
    {
        int count = 0;
        for (int i = 0; i < text.Length; count++)
        {
            i += DecodeOne(text, i, nameof(text)).Used;
        }

        return count;
    }

    /// <summary>The indices of <paramref name="text"/>'s characters, one per Unicode scalar value.</summary>
    /// <exception cref="UnknownCharacterException">Some characters are not in the vocabulary (all are listed).</exception>
    /// <exception cref="ArgumentException">The text holds an unpaired surrogate.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var indices = new int[CountCharacters(text)];
        Encode(text, indices);
        return indices;
    }

    /// <summary>
    /// Writes the indices of <paramref name="text"/>'s characters into <paramref name="destination"/>, which holds one
    /// index per character (<see cref="CountCharacters"/>; the text's length when it has no surrogate pairs).
    /// </summary>
    /// <exception cref="UnknownCharacterException">Some characters are not in the vocabulary (all are listed).</exception>
    /// <exception cref="ArgumentException">The text holds an unpaired surrogate.</exception>
    public void Encode(ReadOnlySpan<char> text, Span<int> destination)
    {
        List<Rune>? unknown = null;
        int written = 0;
        for (int i = 0; i < text.Length;)
        {
            var (rune, used) = DecodeOne(text, i, nameof(text));
            i += used;
            int index = IndexOf(rune);
            if (index < 0)
            {
                unknown ??= [];
                if (!unknown.Contains(rune))
                {
                    unknown.Add(rune);
                }
            }

            if (written == destination.Length)
            {
                throw new ArgumentException($"The destination holds {destination.Length} indices for more characters.", nameof(destination));
            }

            destination[written++] = index;
        }

        if (written != destination.Length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} indices for {written} characters.", nameof(destination));
        }

        if (unknown is not null)
        {
            throw new UnknownCharacterException(unknown, nameof(text));
        }
    }

    /// <summary>The text of <paramref name="indices"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [0, <see cref="Count"/>).</exception>
    public string Decode(ReadOnlySpan<int> indices)
    {
        var text = new StringBuilder(indices.Length);
        Span<char> units = stackalloc char[2];
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)characters.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"Index {index} at position {i} is outside the vocabulary of {characters.Length} characters [0, {characters.Length}).");
            }

            int length = characters[index].EncodeToUtf16(units);
            text.Append(units[..length]);
        }

        return text.ToString();
    }

    /// <summary>The text of one index: one character, which is two UTF-16 code units outside the Basic Multilingual Plane.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside [0, <see cref="Count"/>).</exception>
    public string Decode(int index) => Decode([index]);

    /// <inheritdoc/>
    public bool Equals(CharVocabulary? other) => other is not null && characters.AsSpan().SequenceEqual(other.characters);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CharVocabulary);

    /// <inheritdoc/>
    public override int GetHashCode() => string.GetHashCode(Serialize());

    /// <inheritdoc/>
    public override string ToString() => $"CharVocabulary({Count}: \"{Serialize()}\")";

    private static (Rune Rune, int Used) DecodeOne(ReadOnlySpan<char> text, int at, string paramName)
    {
        if (Rune.DecodeFromUtf16(text[at..], out var rune, out int used) != System.Buffers.OperationStatus.Done)
        {
            throw new ArgumentException($"The text holds an unpaired surrogate U+{(int)text[at]:X4} at position {at}.", paramName);
        }

        return (rune, used);
    }
}
