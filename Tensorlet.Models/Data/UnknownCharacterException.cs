using System.Text;

namespace Tensorlet.Models.Data;

/// <summary>Text given to <see cref="CharVocabulary.Encode(string)"/> holds characters the vocabulary lacks; the message lists each one.</summary>
public sealed class UnknownCharacterException : ArgumentException
{
    /// <summary>Creates the exception for the distinct unknown characters, in order of first appearance.</summary>
    public UnknownCharacterException(IReadOnlyList<Rune> characters, string? paramName = null)
        : base("Characters not in the vocabulary: " + string.Join(", ", characters.Select(CharVocabulary.Quote)) + ".", paramName)
    {
        Characters = characters;
    }

    /// <summary>The distinct unknown characters, in order of first appearance.</summary>
    public IReadOnlyList<Rune> Characters { get; }
}
