using System.Text;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>
/// The classifier's text cleaning, applied to a post after scikit-learn's remove=('headers','footers','quotes'):
/// lower-case it; keep only the characters of <see cref="Alphabet"/> (letters, digits and common punctuation);
/// turn every run of whitespace into one space and drop leading and trailing whitespace. Other characters are
/// dropped. The result is ASCII, so the first N characters are the same in C# and Python.
/// Ids: 0 is padding, <see cref="Alphabet"/>[i] is i + 1.
/// </summary>
internal static class PostCleaning
{
    /// <summary>The kept characters, in id order (from 1).</summary>
    public const string Alphabet = " abcdefghijklmnopqrstuvwxyz0123456789.,;:!?'\"()-/@$%&*+=<>#_";

    /// <summary>The id of padding, before a post shorter than the window.</summary>
    public const int PaddingId = 0;

    /// <summary>The number of ids: padding and the alphabet.</summary>
    public static int VocabularySize => Alphabet.Length + 1;

    /// <summary>The cleaned text of a stripped post (possibly empty).</summary>
    public static string Clean(string text)
    {
        var result = new StringBuilder(text.Length);
        bool space = false;
        foreach (char raw in text)
        {
            char c = char.ToLowerInvariant(raw);
            if (char.IsWhiteSpace(c))
            {
                space = result.Length > 0;
            }
            else if (Alphabet.Contains(c, StringComparison.Ordinal))
            {
                if (space)
                {
                    result.Append(' ');
                    space = false;
                }

                result.Append(c);
            }
        }

        return result.ToString();
    }

    /// <summary>
    /// Writes the ids of the first <paramref name="window"/>.Length characters of <paramref name="cleaned"/> into
    /// <paramref name="window"/>, padded at the front, so the last step the LSTM reads is always text.
    /// </summary>
    public static void Encode(string cleaned, Span<int> window)
    {
        int length = Math.Min(cleaned.Length, window.Length);
        int padding = window.Length - length;
        window[..padding].Fill(PaddingId);
        for (int i = 0; i < length; i++)
        {
            window[padding + i] = Alphabet.IndexOf(cleaned[i], StringComparison.Ordinal) + 1;
        }
    }
}
