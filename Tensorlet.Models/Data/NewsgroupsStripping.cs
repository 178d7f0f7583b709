using System.Text;

namespace Tensorlet.Models.Data;

/// <summary>
/// scikit-learn 1.2's header, footer and quote removal (<c>sklearn/datasets/_twenty_newsgroups.py</c>),
/// ported line for line: same splitting on "\n" only (a CR stays in its line), same Python whitespace for
/// <c>strip()</c>, and the same odd cases (a post without a blank line loses everything to the header rule;
/// the footer rule returns the text unchanged, not stripped, when it finds nothing).
/// </summary>
public static class NewsgroupsStripping
{
    /// <summary>Applies the removals in <paramref name="remove"/> in <c>fetch_20newsgroups</c>' order: headers, footers, quotes.</summary>
    public static string Apply(string text, NewsgroupsRemove remove)
    {
        ArgumentNullException.ThrowIfNull(text);
        if ((remove & NewsgroupsRemove.Headers) != 0)
        {
            text = StripHeader(text);
        }

        if ((remove & NewsgroupsRemove.Footers) != 0)
        {
            text = StripFooter(text);
        }

        if ((remove & NewsgroupsRemove.Quotes) != 0)
        {
            text = StripQuoting(text);
        }

        return text;
    }

    /// <summary>
    /// <c>strip_newsgroup_header</c>: everything after the first "\n\n" (<c>text.partition("\n\n")[2]</c>),
    /// or the empty string when there is none.
    /// </summary>
    public static string StripHeader(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        return blank < 0 ? string.Empty : text[(blank + 2)..];
    }

    /// <summary><see cref="StripHeader(string)"/> over a span: the result is a slice of <paramref name="text"/>.</summary>
    internal static ReadOnlySpan<char> StripHeader(ReadOnlySpan<char> text)
    {
        int blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        return blank < 0 ? [] : text[(blank + 2)..];
    }

    /// <summary>
    /// <c>strip_newsgroup_quoting</c>: drops every "\n"-separated line that contains <c>writes in</c>,
    /// <c>writes:</c>, <c>wrote:</c>, <c>says:</c> or <c>said:</c>, or starts with <c>In article</c>,
    /// <c>Quoted from</c>, <c>|</c> or <c>&gt;</c>, and joins the rest with "\n".
    /// </summary>
    public static string StripQuoting(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        StringBuilder? kept = null;
        bool first = true;
        int start = 0;
        while (true)
        {
            int newline = text.IndexOf('\n', start);
            int end = newline < 0 ? text.Length : newline;
            var line = text.AsSpan(start, end - start);
            if (IsQuoteLine(line))
            {
                // The first removed line: copy the lines kept so far, then go on line by line.
                kept ??= new StringBuilder(text.Length).Append(text, 0, Math.Max(0, start - 1));
            }
            else if (kept is not null)
            {
                if (!first)
                {
                    kept.Append('\n');
                }

                kept.Append(line);
                first = false;
            }
            else
            {
                first = false;
            }

            if (newline < 0)
            {
                break;
            }

            start = newline + 1;
        }

        return kept?.ToString() ?? text;
    }

    /// <summary>
    /// <c>strip_newsgroup_footer</c>: strips the text (Python whitespace), splits it on "\n", and finds the
    /// last line that is empty or only hyphens once stripped. When that line is not the first, returns the
    /// lines before it joined with "\n"; otherwise returns <paramref name="text"/> unchanged.
    /// </summary>
    public static string StripFooter(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stripped = StripFooter(text.AsSpan());

        // The result is either the whole text or a strictly shorter prefix of its stripped form.
        return stripped.Length == text.Length ? text : new string(stripped);
    }

    /// <summary><see cref="StripFooter(string)"/> over a span: the result is a slice of <paramref name="text"/>.</summary>
    internal static ReadOnlySpan<char> StripFooter(ReadOnlySpan<char> text)
    {
        var stripped = PythonText.Strip(text);
        int end = stripped.Length;
        while (true)
        {
            int newline = stripped[..end].LastIndexOf('\n');
            int start = newline + 1;
            if (IsSeparatorLine(stripped[start..end]))
            {
                return start > 0 ? stripped[..newline] : text;
            }

            if (newline < 0)
            {
                return text;
            }

            end = newline;
        }
    }

    /// <summary>The quote rule's regex <c>(writes in|writes:|wrote:|says:|said:|^In article|^Quoted from|^\||^&gt;)</c>, searched in one line.</summary>
    internal static bool IsQuoteLine(ReadOnlySpan<char> line)
        => line.StartsWith('>') || line.StartsWith('|')
        || line.StartsWith("In article", StringComparison.Ordinal)
        || line.StartsWith("Quoted from", StringComparison.Ordinal)
        || line.Contains("writes in", StringComparison.Ordinal)
        || line.Contains("writes:", StringComparison.Ordinal)
        || line.Contains("wrote:", StringComparison.Ordinal)
        || line.Contains("says:", StringComparison.Ordinal)
        || line.Contains("said:", StringComparison.Ordinal);

    /// <summary>The footer rule's test <c>line.strip().strip("-") == ""</c>.</summary>
    internal static bool IsSeparatorLine(ReadOnlySpan<char> line) => PythonText.Strip(line).Trim('-').IsEmpty;
}
