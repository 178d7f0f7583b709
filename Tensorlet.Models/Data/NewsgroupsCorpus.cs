using System.Text;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Models.Data;

/// <summary>
/// The notebook's corpus: every post of the chosen subset, stripped (<see cref="NewsgroupsStripping"/>) and
/// cleaned (<see cref="NotebookCleaning"/>) into 100-character sequences. Posts are streamed from the archive
/// and only the sequences are kept. Order: <see cref="NewsgroupsOrder.Sorted"/> by default (train then test, groups
/// and files sorted ordinally, whatever the archive's order), or scikit-learn's shuffled order.
/// On subset All with all three removals this gives 16828 sequences over a 32-character vocabulary.
/// </summary>
public sealed class NewsgroupsCorpus
{
    private readonly string[] groups;
    private readonly string[] sequences;
    private readonly NewsgroupsDocumentId[] sources;

    private NewsgroupsCorpus(
        NewsgroupsSubset subset, NewsgroupsRemove remove, NewsgroupsOrder order, int trainDocuments, int testDocuments,
        string[] groups, string[] sequences, NewsgroupsDocumentId[] sources)
    {
        Subset = subset;
        Remove = remove;
        Order = order;
        TrainDocuments = trainDocuments;
        TestDocuments = testDocuments;
        this.groups = groups;
        this.sequences = sequences;
        this.sources = sources;
    }

    /// <summary>The subset loaded.</summary>
    public NewsgroupsSubset Subset { get; }

    /// <summary>The removals applied before cleaning.</summary>
    public NewsgroupsRemove Remove { get; }

    /// <summary>The order of <see cref="Sequences"/>.</summary>
    public NewsgroupsOrder Order { get; }

    /// <summary>Documents read in the training split (all of them, whatever <see cref="Subset"/>).</summary>
    public int TrainDocuments { get; }

    /// <summary>Documents read in the test split (all of them, whatever <see cref="Subset"/>).</summary>
    public int TestDocuments { get; }

    /// <summary>Documents in <see cref="Subset"/>: the posts that were cleaned, kept or not.</summary>
    public int Documents => Subset switch
    {
        NewsgroupsSubset.Train => TrainDocuments,
        NewsgroupsSubset.Test => TestDocuments,
        _ => TrainDocuments + TestDocuments,
    };

    /// <summary>The newsgroups (folder names), sorted ordinally; a group's index here is its label, as scikit-learn's target.</summary>
    public IReadOnlyList<string> Groups => groups;

    /// <summary>The kept sequences, each exactly <see cref="NotebookCleaning.SequenceLength"/> characters (never trimmed).</summary>
    public IReadOnlyList<string> Sequences => sequences;

    /// <summary>For each sequence, the post it comes from.</summary>
    public IReadOnlyList<NewsgroupsDocumentId> Sources => sources;

    /// <summary>
    /// Loads <paramref name="path"/> (an archive or an extracted folder; see <see cref="NewsgroupsArchive.Locate"/>
    /// to find or download it). <paramref name="verifyCounts"/> checks the release's document counts and throws a
    /// <see cref="CorpusException"/> when they differ; turn it off only for hand-made test archives.
    /// </summary>
    public static NewsgroupsCorpus Load(
        string path,
        NewsgroupsSubset subset = NewsgroupsSubset.All,
        NewsgroupsRemove remove = NewsgroupsRemove.All,
        bool verifyCounts = true,
        NewsgroupsOrder order = NewsgroupsOrder.Sorted)
    {
        ArgumentNullException.ThrowIfNull(path);
        int train = 0;
        int test = 0;
        var groups = new SortedSet<string>(StringComparer.Ordinal);
        var cleaned = new List<(NewsgroupsDocumentId Id, string? Sequence)>(subset == NewsgroupsSubset.Test ? 7600 : 19000);
        NewsgroupsReader.ForEachDocument(path, verifyCounts, (id, text) =>
        {
            if (id.Split == NewsgroupsSubset.Train)
            {
                train++;
            }
            else
            {
                test++;
            }

            groups.Add(id.Group);
            if (subset == NewsgroupsSubset.All || subset == id.Split)
            {
                cleaned.Add((id, StripAndClean(text, remove)));
            }
        });

        cleaned.Sort((a, b) => a.Id.CompareTo(b.Id));
        if (order == NewsgroupsOrder.ScikitLearnShuffled)
        {
            cleaned = ScikitLearnOrder(cleaned, subset);
        }

        var kept = cleaned.Where(c => c.Sequence is not null).ToList();
        return new NewsgroupsCorpus(
            subset, remove, order, train, test, [.. groups], kept.Select(k => k.Sequence!).ToArray(), kept.Select(k => k.Id).ToArray());
    }

    /// <summary>
    /// <c>NotebookCleaning.Clean(NewsgroupsStripping.Apply(text, remove))</c> without building the intermediate
    /// strings: the header and footer rules give slices of the text, and quote lines are skipped while cleaning.
    /// </summary>
    internal static string? StripAndClean(ReadOnlySpan<char> text, NewsgroupsRemove remove)
    {
        if ((remove & NewsgroupsRemove.Headers) != 0)
        {
            text = NewsgroupsStripping.StripHeader(text);
        }

        if ((remove & NewsgroupsRemove.Footers) != 0)
        {
            text = NewsgroupsStripping.StripFooter(text);
        }

        return (remove & NewsgroupsRemove.Quotes) != 0 ? NotebookCleaning.CleanSkippingQuotes(text) : NotebookCleaning.Clean(text);
    }

    // fetch_20newsgroups(subset, shuffle=True, random_state=42) over documents given in sorted order: load_files
    // shuffled each split with RandomState(0) when it built its cache; "all" concatenates train and test; then
    // RandomState(42) shuffles. x[permutation] means result[k] = x[permutation[k]].
    private static List<(NewsgroupsDocumentId Id, string? Sequence)> ScikitLearnOrder(
        List<(NewsgroupsDocumentId Id, string? Sequence)> sorted, NewsgroupsSubset subset)
    {
        static List<T> Take<T>(List<T> items, int[] permutation) => [.. permutation.Select(i => items[i])];

        var train = sorted.Where(d => d.Id.Split == NewsgroupsSubset.Train).ToList();
        var test = sorted.Where(d => d.Id.Split == NewsgroupsSubset.Test).ToList();
        train = Take(train, NumpyRandomState.Permutation(train.Count, 0));
        test = Take(test, NumpyRandomState.Permutation(test.Count, 0));
        var documents = subset switch
        {
            NewsgroupsSubset.Train => train,
            NewsgroupsSubset.Test => test,
            _ => [.. train, .. test],
        };
        return Take(documents, NumpyRandomState.Permutation(documents.Count, 42));
    }

    /// <summary>The label of sequence <paramref name="index"/>: its group's index in <see cref="Groups"/>.</summary>
    public int GroupIndexOf(int index) => Array.BinarySearch(groups, sources[index].Group, StringComparer.Ordinal);

    /// <summary>The character vocabulary of the sequences (32 characters on the full corpus).</summary>
    public CharVocabulary BuildVocabulary() => CharVocabulary.FromTexts(sequences);

    /// <summary>Writes the sequences one per line, each followed by "\n", exactly as kept (trailing spaces included).</summary>
    public void WriteSequences(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var sequence in sequences)
        {
            writer.Write(sequence);
            writer.Write('\n');
        }
    }

    /// <summary>
    /// Writes the sequences to <paramref name="path"/> as ASCII, one per line (see <see cref="WriteSequences(TextWriter)"/>),
    /// through <see cref="AtomicFile"/>: the file is either the old one or the whole new one.
    /// </summary>
    public void ExportSequences(string path) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
        WriteSequences(writer);
    });
}
