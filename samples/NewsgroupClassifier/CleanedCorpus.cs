using Tensorlet.Models.Checkpoints;
using Tensorlet.Models.Data;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>Both splits of 20news-bydate, cleaned, with the group names (sorted ordinally; a label is an index into them).</summary>
internal sealed record CleanedCorpus(IReadOnlyList<string> Groups, IReadOnlyList<CleanedPost> Train, IReadOnlyList<CleanedPost> Test)
{
    /// <summary>
    /// Reads the archive or folder at <paramref name="path"/>, strips headers, footers and quotes as scikit-learn does,
    /// and cleans every post; empty posts are kept, as scikit-learn keeps them. With <paramref name="limit"/>, each
    /// split keeps that many posts drawn at random with <paramref name="seed"/>.
    /// </summary>
    public static CleanedCorpus Load(string path, int? limit, int seed)
    {
        var documents = NewsgroupsReader.ReadDocuments(path).ToList();
        documents.Sort((a, b) => a.Id.CompareTo(b.Id));
        string[] groups = [.. documents.Select(d => d.Id.Group).Distinct().Order(StringComparer.Ordinal)];
        var posts = documents.Select(d => new CleanedPost(
            d.Id.Split,
            Array.BinarySearch(groups, d.Id.Group, StringComparer.Ordinal),
            PostCleaning.Clean(NewsgroupsStripping.Apply(d.Text, NewsgroupsRemove.All)))).ToList();
        return new CleanedCorpus(groups, Take(posts, NewsgroupsSubset.Train, limit, seed), Take(posts, NewsgroupsSubset.Test, limit, seed + 1));
    }

    private static List<CleanedPost> Take(List<CleanedPost> posts, NewsgroupsSubset split, int? limit, int seed)
    {
        var kept = posts.Where(p => p.Split == split).ToArray();
        if (limit is int n && n < kept.Length)
        {
            new Random(seed).Shuffle(kept);
            kept = kept[..n];
        }

        return [.. kept];
    }

    /// <summary>
    /// Writes every post as one line "split TAB group TAB cleaned text" (UTF-8, no BOM; the text is ASCII and has no
    /// tab or newline), for scripts/newsgroups_sklearn_baseline.py, through the library's <see cref="AtomicFile"/>.
    /// </summary>
    public void Export(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true);
        foreach (var post in Train.Concat(Test))
        {
            writer.Write($"{(post.Split == NewsgroupsSubset.Train ? "train" : "test")}\t{Groups[post.Label]}\t{post.Text}\n");
        }
    });
}
