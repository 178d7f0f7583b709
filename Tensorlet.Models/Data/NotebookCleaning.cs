namespace Tensorlet.Models.Data;

/// <summary>
/// The notebook's cleaning of one (stripped) post into a fixed-length character sequence:
/// <code>
/// tokens = re.findall(r"[\w']+|[.,!?;]", text)
/// kept = [t.lower() for t in tokens if re.fullmatch(r"[A-Za-z.,!?;]*", t) and not t.isupper() and no digit in t]
/// s = " ".join(kept); keep the post only if len(s) >= 100, as s[:100]
/// </code>
/// <c>\w</c> is Python's Unicode class (<c>c.isalnum() or c == "_"</c>): "café" or "x²" is one token, and it is
/// then dropped whole for its non-ASCII character, rather than leaving "caf" or "x". After the
/// <c>[A-Za-z.,!?;]*</c> test a kept token is ASCII letters or one punctuation mark, so "upper-case" means
/// letters with no lower-case one (e.g. "I", "NASA"), and the digit test can no longer fail.
/// </summary>
public static class NotebookCleaning
{
    /// <summary>The length of every kept sequence, and the shortest cleaned text that is kept.</summary>
    public const int SequenceLength = 100;

    /// <summary>The punctuation marks that are tokens of their own.</summary>
    public const string Punctuation = ".,!?;";

    /// <summary>All tokens of <paramref name="text"/>, as <c>re.findall(r"[\w']+|[.,!?;]", text)</c>.</summary>
    public static IEnumerable<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (IsTokenChar(c))
            {
                int start = i;
                while (i < text.Length && IsTokenChar(text[i]))
                {
                    i++;
                }

                yield return text[start..i];
            }
            else
            {
                i++;
                if (Punctuation.Contains(c))
                {
                    yield return c.ToString();
                }
            }
        }
    }

    /// <summary>Whether the notebook keeps <paramref name="token"/>: only ASCII letters or one of <c>.,!?;</c>, not upper-case, no digit.</summary>
    public static bool IsKept(ReadOnlySpan<char> token)
    {
        bool cased = false;
        bool lower = false;
        foreach (char c in token)
        {
            if (char.IsAsciiLetterLower(c))
            {
                cased = lower = true;
            }
            else if (char.IsAsciiLetterUpper(c))
            {
                cased = true;
            }
            else if (!Punctuation.Contains(c))
            {
                return false;
            }
        }

        // str.isupper(): at least one cased character and no lower-case one.
        return !(cased && !lower);
    }

    /// <summary>The kept tokens, lower-cased and joined with single spaces, whole (before the 100-character cut).</summary>
    public static string JoinKeptTokens(string text)
        => string.Join(' ', Tokenize(text).Where(t => IsKept(t)).Select(t => t.ToLowerInvariant()));

    /// <summary>
    /// The notebook's sequence for <paramref name="text"/>: the first <see cref="SequenceLength"/> characters of
    /// <see cref="JoinKeptTokens"/>, or null when that is shorter (the post is dropped). Never trimmed: a sequence
    /// may end in a space. Stops scanning as soon as 100 characters are known.
    /// </summary>
    public static string? Clean(ReadOnlySpan<char> text)
    {
        Span<char> sequence = stackalloc char[SequenceLength];
        int length = 0;
        return Feed(text, sequence, ref length) ? new string(sequence) : null;
    }

    /// <summary>
    /// <see cref="Clean(ReadOnlySpan{char})"/> of <paramref name="text"/> after <see cref="NewsgroupsStripping.StripQuoting"/>,
    /// without building the stripped text: a token never spans a "\n", so cleaning the kept lines one by one
    /// gives the tokens of the kept lines joined with "\n".
    /// </summary>
    internal static string? CleanSkippingQuotes(ReadOnlySpan<char> text)
    {
        Span<char> sequence = stackalloc char[SequenceLength];
        int length = 0;
        foreach (var range in text.Split('\n'))
        {
            var line = text[range];
            if (!NewsgroupsStripping.IsQuoteLine(line) && Feed(line, sequence, ref length))
            {
                return new string(sequence);
            }
        }

        return null;
    }

    // Tokenizes text and appends the kept tokens to the sequence; true once it is full.
    private static bool Feed(ReadOnlySpan<char> text, Span<char> sequence, ref int length)
    {
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (IsTokenChar(c))
            {
                int start = i;
                bool asciiLetters = true;
                bool lower = false;
                while (i < text.Length && IsTokenChar(text[i]))
                {
                    char t = text[i];
                    if (char.IsAsciiLetterLower(t))
                    {
                        lower = true;
                    }
                    else if (!char.IsAsciiLetterUpper(t))
                    {
                        asciiLetters = false;
                    }

                    i++;
                }

                // A word token is kept when it is ASCII letters only with at least one lower-case letter.
                if (asciiLetters && lower && Append(sequence, ref length, text[start..i]))
                {
                    return true;
                }
            }
            else
            {
                i++;
                if (Punctuation.Contains(c) && Append(sequence, ref length, new ReadOnlySpan<char>(in c)))
                {
                    return true;
                }
            }
        }

        return false;
    }

    // [\w']: Python's word characters and the apostrophe.
    private static bool IsTokenChar(char c) => c == '\'' || PythonText.IsWord(c);

    // Appends " " (unless first) and the lower-cased token; true once the sequence is full.
    private static bool Append(Span<char> sequence, ref int length, ReadOnlySpan<char> token)
    {
        if (length > 0)
        {
            sequence[length++] = ' ';
            if (length == sequence.Length)
            {
                return true;
            }
        }

        int n = Math.Min(token.Length, sequence.Length - length);
        for (int k = 0; k < n; k++)
        {
            char c = token[k];
            sequence[length + k] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
        }

        length += n;
        return length == sequence.Length;
    }
}
