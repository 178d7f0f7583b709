namespace Tensorlet.Models.Data;

/// <summary>Which part of 20news-bydate to load, as scikit-learn's <c>subset</c> argument.</summary>
public enum NewsgroupsSubset
{
    /// <summary>The training split, folder <c>20news-bydate-train</c> (11314 documents).</summary>
    Train,

    /// <summary>The test split, folder <c>20news-bydate-test</c> (7532 documents).</summary>
    Test,

    /// <summary>Both splits, train first then test (18846 documents).</summary>
    All,
}
