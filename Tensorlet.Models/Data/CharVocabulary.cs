namespace Tensorlet.Models.Data;

/// <summary>
/// A character vocabulary: index ↔ character, characters sorted ordinally (for the corpus: space ! , . ; ? a–z,
/// so space is 0 and 'z' is 31). Serializes to the string of its characters, for checkpoint metadata.
/// </summary>
public sealed class CharVocabulary : IEquatable<CharVocabulary>
{
    private readonly char[] characters;
    private readonly int[] indexOf; // indexOf[c] = index + 1, 0 when absent; sized to the largest character

    private CharVocabulary(char[] sortedDistinct)
    {
        characters = sortedDistinct;
        indexOf = new int[sortedDistinct.Length == 0 ? 0 : sortedDistinct[^1] + 1];
        for (int i = 0; i < sortedDistinct.Length; i++)
        {
            indexOf[sortedDistinct[i]] = i + 1;
        }
    }

    /// <summary>The number of characters.</summary>
    public int Count => characters.Length;

    /// <summary>The characters, in index order.</summary>
    public IReadOnlyList<char> Characters => characters;

    /// <summary>The character at <paramref name="index"/>.</summary>
    public char this[int index] => characters[index];

    /// <summary>The vocabulary of every character in <paramref name="texts"/>.</summary>
    public static CharVocabulary FromTexts(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var seen = new HashSet<char>();
        foreach (var text in texts)
        {
            foreach (char c in text)
            {
                seen.Add(c);
            }
        }

        return FromCharacters(seen);
    }

    /// <summary>The vocabulary of the given characters (duplicates ignored; sorted ordinally).</summary>
    public static CharVocabulary FromCharacters(IEnumerable<char> characters)
    {
        ArgumentNullException.ThrowIfNull(characters);
        var sorted = characters.Distinct().ToArray();
        Array.Sort(sorted);
        return new CharVocabulary(sorted);
    }

    /// <summary>Reads a vocabulary written by <see cref="Serialize"/>: its characters, strictly increasing.</summary>
    /// <exception cref="FormatException">The characters are not strictly increasing.</exception>
    public static CharVocabulary Deserialize(string serialized)
    {
        ArgumentNullException.ThrowIfNull(serialized);
        for (int i = 1; i < serialized.Length; i++)
        {
            if (serialized[i] <= serialized[i - 1])
            {
                throw new FormatException($"A serialized character vocabulary lists its characters in strictly increasing order; position {i} breaks it.");
            }
        }

        return new CharVocabulary(serialized.ToCharArray());
    }

    /// <summary>The characters as one string, in index order (e.g. " !,.;?abcdefghijklmnopqrstuvwxyz").</summary>
    public string Serialize() => new(characters);

    /// <summary>The index of <paramref name="c"/>, or -1 when it is not in the vocabulary.</summary>
    public int IndexOf(char c) => c < indexOf.Length ? indexOf[c] - 1 : -1;

    /// <summary>Whether <paramref name="c"/> is in the vocabulary.</summary>
    public bool Contains(char c) => IndexOf(c) >= 0;

    /// <summary>The indices of <paramref name="text"/>'s characters.</summary>
    /// <exception cref="UnknownCharacterException">Some characters are not in the vocabulary (all are listed).</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var indices = new int[text.Length];
        Encode(text, indices);
        return indices;
    }

    /// <summary>Writes the indices of <paramref name="text"/>'s characters into <paramref name="destination"/> (same length).</summary>
    /// <exception cref="UnknownCharacterException">Some characters are not in the vocabulary (all are listed).</exception>
    public void Encode(ReadOnlySpan<char> text, Span<int> destination)
    {
        if (destination.Length != text.Length)
        {
            throw new ArgumentException($"The destination holds {destination.Length} indices for {text.Length} characters.", nameof(destination));
        }

        List<char>? unknown = null;
        for (int i = 0; i < text.Length; i++)
        {
            int index = IndexOf(text[i]);
            if (index < 0)
            {
                unknown ??= [];
                if (!unknown.Contains(text[i]))
                {
                    unknown.Add(text[i]);
                }
            }

            destination[i] = index;
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
        var text = new char[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)characters.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"Index at position {i} is outside the vocabulary of {characters.Length} characters.");
            }

            text[i] = characters[index];
        }

        return new string(text);
    }

    /// <inheritdoc/>
    public bool Equals(CharVocabulary? other) => other is not null && characters.AsSpan().SequenceEqual(other.characters);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as CharVocabulary);

    /// <inheritdoc/>
    public override int GetHashCode() => string.GetHashCode(characters);

    /// <inheritdoc/>
    public override string ToString() => $"CharVocabulary({Count}: \"{Serialize()}\")";
}
