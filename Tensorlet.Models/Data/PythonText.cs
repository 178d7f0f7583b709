using System.Globalization;

namespace Tensorlet.Models.Data;

/// <summary>
/// Python 3 character classes the pipeline depends on, exact over latin-1 (U+0000–U+00FF, all a latin-1 file
/// can hold): <c>re</c>'s Unicode <c>\w</c> and <c>str.isspace</c> (what <c>str.strip()</c> removes).
/// They differ from .NET's: Python's <c>\w</c> is <c>str.isalnum()</c> or '_', so over latin-1 it is .NET's <c>\w</c>
/// plus ² ³ ¹ ¼ ½ ¾ (category No); Python's whitespace includes U+001C–U+001F, which
/// <see cref="char.IsWhiteSpace(char)"/> does not.
/// The tables were printed by Python 3.11 (<c>re.match(r"\w", chr(c))</c>, <c>chr(c).isspace()</c>) for c in 0..255.
/// </summary>
internal static class PythonText
{
    // Bit c of the 256-bit table is set when chr(c) matches Python's \w: 0-9 A-Z _ a-z ª ² ³ µ ¹ º ¼ ½ ¾ À-Ö Ø-ö ø-ÿ.
    private static ReadOnlySpan<ulong> WordTable => [0x03FF000000000000, 0x07FFFFFE87FFFFFE, 0x762C040000000000, 0xFF7FFFFFFF7FFFFF];

    // \t \n \v \f \r U+001C-U+001F space U+0085 U+00A0.
    private static ReadOnlySpan<ulong> SpaceTable => [0x00000001F0003E00, 0x0000000000000000, 0x0000000100000020, 0x0000000000000000];

    /// <summary>Python's <c>\w</c> (Unicode): <c>c.isalnum() or c == "_"</c>. Exact for latin-1; beyond it, letters and numbers by category.</summary>
    public static bool IsWord(char c)
    {
        if (c < 256)
        {
            return ((WordTable[c >> 6] >> (c & 63)) & 1) != 0;
        }

        return char.GetUnicodeCategory(c) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }

    /// <summary>Python's <c>str.isspace()</c> for one character. Exact for latin-1; beyond it, <see cref="char.IsWhiteSpace(char)"/>.</summary>
    public static bool IsSpace(char c)
        => c < 256 ? ((SpaceTable[c >> 6] >> (c & 63)) & 1) != 0 : char.IsWhiteSpace(c);

    /// <summary>Python's <c>str.strip()</c> with no argument: removes <see cref="IsSpace"/> characters at both ends.</summary>
    public static ReadOnlySpan<char> Strip(ReadOnlySpan<char> text)
    {
        int start = 0;
        int end = text.Length;
        while (start < end && IsSpace(text[start]))
        {
            start++;
        }

        while (end > start && IsSpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }
}
