namespace Tensorlet.Models.Data;

/// <summary>The order of the documents (and so of the sequences) in a <see cref="NewsgroupsCorpus"/>.</summary>
public enum NewsgroupsOrder
{
    /// <summary>
    /// Train then test, group and file names sorted ordinally (<see cref="NewsgroupsDocumentId"/> order): the order
    /// <c>load_files</c> lists files in before it shuffles. Independent of the archive's entry order.
    /// </summary>
    Sorted,

    /// <summary>
    /// The order <c>fetch_20newsgroups(subset, shuffle=True, random_state=42)</c> returns, as in the notebook:
    /// each split shuffled by <c>load_files</c> (numpy RandomState(0)), the splits concatenated for All, then shuffled
    /// by RandomState(42). The notebook held out the last 10% of this order.
    /// </summary>
    ScikitLearnShuffled,
}
