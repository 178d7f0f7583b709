namespace Tensorlet.Models.Data;

/// <summary>
/// Where a document comes from: its split, its group (folder) and its file name. Orders like
/// scikit-learn's <c>load_files</c> + <c>fetch_20newsgroups(subset="all", shuffle=False)</c>: train before
/// test, then group names and file names in ordinal (code point) order, as Python's <c>sorted</c>.
/// </summary>
/// <param name="Split">The split: <see cref="NewsgroupsSubset.Train"/> or <see cref="NewsgroupsSubset.Test"/>.</param>
/// <param name="Group">The newsgroup, e.g. <c>sci.space</c>.</param>
/// <param name="FileName">The file name inside the group folder, e.g. <c>60804</c>.</param>
public readonly record struct NewsgroupsDocumentId(NewsgroupsSubset Split, string Group, string FileName) : IComparable<NewsgroupsDocumentId>
{
    /// <summary>The path inside the archive, e.g. <c>20news-bydate-train/sci.space/60804</c>.</summary>
    public string ArchivePath => $"{NewsgroupsReader.SplitFolder(Split)}/{Group}/{FileName}";

    /// <inheritdoc/>
    public int CompareTo(NewsgroupsDocumentId other)
    {
        int c = Split.CompareTo(other.Split);
        if (c == 0)
        {
            c = string.CompareOrdinal(Group, other.Group);
        }

        return c != 0 ? c : string.CompareOrdinal(FileName, other.FileName);
    }

    /// <inheritdoc/>
    public override string ToString() => ArchivePath;
}
