namespace Tensorlet.Models.Data;

/// <summary>
/// The parts of a post to remove, as scikit-learn's <c>remove</c> argument of <c>fetch_20newsgroups</c>.
/// They are applied in scikit-learn's order: headers, then footers, then quotes.
/// </summary>
[Flags]
public enum NewsgroupsRemove
{
    /// <summary>Keep the whole post.</summary>
    None = 0,

    /// <summary>Everything before the first blank line (<c>strip_newsgroup_header</c>).</summary>
    Headers = 1,

    /// <summary>A trailing signature block (<c>strip_newsgroup_footer</c>).</summary>
    Footers = 2,

    /// <summary>Quoted lines and the lines that introduce them (<c>strip_newsgroup_quoting</c>).</summary>
    Quotes = 4,

    /// <summary>Headers, footers and quotes: what the notebook uses.</summary>
    All = Headers | Footers | Quotes,
}
