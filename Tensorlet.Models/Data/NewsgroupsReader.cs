using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Tensorlet.Models.Data;

/// <summary>
/// Streams the raw posts of 20news-bydate straight out of <c>20news-bydate.tar.gz</c> (no extraction to disk),
/// or out of an extracted folder holding <c>20news-bydate-train</c> and <c>20news-bydate-test</c>.
/// Files are decoded as latin-1, as scikit-learn's <c>load_files(..., encoding="latin1")</c>.
/// Any read error becomes a <see cref="CorpusException"/> naming the file.
/// </summary>
public static class NewsgroupsReader
{
    /// <summary>The training folder's name.</summary>
    public const string TrainFolder = "20news-bydate-train";

    /// <summary>The test folder's name.</summary>
    public const string TestFolder = "20news-bydate-test";

    /// <summary>Documents in the training split of the release.</summary>
    public const int ExpectedTrainDocuments = 11314;

    /// <summary>Documents in the test split of the release.</summary>
    public const int ExpectedTestDocuments = 7532;

    /// <summary>Newsgroups (folders) in each split.</summary>
    public const int ExpectedGroups = 20;

    /// <summary>The folder name of a split.</summary>
    internal static string SplitFolder(NewsgroupsSubset split) => split switch
    {
        NewsgroupsSubset.Train => TrainFolder,
        NewsgroupsSubset.Test => TestFolder,
        _ => throw new ArgumentOutOfRangeException(nameof(split), $"A document belongs to Train or Test; got {split}."),
    };

    /// <summary>
    /// Every post of the archive or folder at <paramref name="path"/>: a .tar.gz in the archive's own entry order
    /// (streamed, one post in memory at a time), a folder in <see cref="NewsgroupsDocumentId"/> order.
    /// Entries outside <c>20news-bydate-{train,test}/&lt;group&gt;/&lt;file&gt;</c> are skipped.
    /// With <paramref name="verifyCounts"/>, the enumeration ends by checking the release's counts
    /// (11314 train and 7532 test documents, the same 20 groups in each) and throws a <see cref="CorpusException"/> if they differ.
    /// </summary>
    public static IEnumerable<NewsgroupsDocument> ReadDocuments(string path, bool verifyCounts = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        var counter = new Counter(path);
        var documents = Directory.Exists(path) ? ReadFolder(path) : ReadArchive(path);
        foreach (var document in documents)
        {
            counter.Add(document.Id);
            yield return document;
        }

        if (verifyCounts)
        {
            counter.Verify();
        }
    }

    /// <summary>Parses an entry name such as <c>20news-bydate-train/sci.space/60804</c> (an optional <c>./</c> prefix allowed).</summary>
    internal static bool TryParseEntryName(string name, out NewsgroupsDocumentId id) => TryParseEntryName(name, null, out id);

    // groupNames, when given, shares one string per group among all the documents of a read.
    private static bool TryParseEntryName(string name, HashSet<string>? groupNames, out NewsgroupsDocumentId id)
    {
        ArgumentNullException.ThrowIfNull(name);
        id = default;
        var span = name.AsSpan();
        if (span.StartsWith("./", StringComparison.Ordinal))
        {
            span = span[2..];
        }

        int first = span.IndexOf('/');
        if (first <= 0)
        {
            return false;
        }

        var folder = span[..first];
        NewsgroupsSubset split;
        if (folder.SequenceEqual(TrainFolder))
        {
            split = NewsgroupsSubset.Train;
        }
        else if (folder.SequenceEqual(TestFolder))
        {
            split = NewsgroupsSubset.Test;
        }
        else
        {
            return false;
        }

        var rest = span[(first + 1)..];
        int second = rest.IndexOf('/');
        if (second <= 0 || second == rest.Length - 1 || rest[(second + 1)..].Contains('/'))
        {
            return false;
        }

        var groupSpan = rest[..second];
        string group;
        if (groupNames is null)
        {
            group = new string(groupSpan);
        }
        else if (!groupNames.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(groupSpan, out group!))
        {
            group = new string(groupSpan);
            groupNames.Add(group);
        }

        id = new NewsgroupsDocumentId(split, group, new string(rest[(second + 1)..]));
        return true;
    }

    private static IEnumerable<NewsgroupsDocument> ReadFolder(string folder)
    {
        foreach (var split in new[] { NewsgroupsSubset.Train, NewsgroupsSubset.Test })
        {
            var splitPath = Path.Combine(folder, SplitFolder(split));
            if (!Directory.Exists(splitPath))
            {
                continue;
            }

            // load_files: sorted(listdir(...)) of the groups, then of each group's files.
            var groups = Directory.GetDirectories(splitPath).Select(Path.GetFileName).Order(StringComparer.Ordinal);
            foreach (var group in groups)
            {
                var files = Directory.GetFiles(Path.Combine(splitPath, group!)).Order(StringComparer.Ordinal);
                foreach (var file in files)
                {
                    string text;
                    try
                    {
                        text = Encoding.Latin1.GetString(File.ReadAllBytes(file));
                    }
                    catch (IOException e)
                    {
                        throw new CorpusException(file, $"Could not read the 20 Newsgroups post {file}: {e.Message}", e);
                    }

                    yield return new NewsgroupsDocument(new NewsgroupsDocumentId(split, group!, Path.GetFileName(file)), text);
                }
            }
        }
    }

    /// <summary>
    /// The allocation-lean form of <see cref="ReadDocuments"/> used by <see cref="NewsgroupsCorpus.Load"/>: hands each post's
    /// text to <paramref name="action"/> as a span over a reused buffer (valid only during the call), in the same order.
    /// </summary>
    internal static void ForEachDocument(string path, bool verifyCounts, DocumentAction action)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            foreach (var document in ReadDocuments(path, verifyCounts))
            {
                action(document.Id, document.Text);
            }

            return;
        }

        var counter = new Counter(path);
        using var cursor = new ArchiveCursor(path);
        char[] text = ArrayPool<char>.Shared.Rent(1 << 16);
        try
        {
            while (cursor.MoveNext())
            {
                var bytes = cursor.Bytes;
                if (text.Length < bytes.Length)
                {
                    ArrayPool<char>.Shared.Return(text);
                    text = ArrayPool<char>.Shared.Rent(bytes.Length);
                }

                int length = Encoding.Latin1.GetChars(bytes, text);
                counter.Add(cursor.Id);
                action(cursor.Id, text.AsSpan(0, length));
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(text);
        }

        if (verifyCounts)
        {
            counter.Verify();
        }
    }

    private static IEnumerable<NewsgroupsDocument> ReadArchive(string path)
    {
        using var cursor = new ArchiveCursor(path);
        while (cursor.MoveNext())
        {
            yield return new NewsgroupsDocument(cursor.Id, Encoding.Latin1.GetString(cursor.Bytes));
        }
    }

    private static void CheckGzipMagic(FileStream file, string path)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        if (read == 0)
        {
            throw new CorpusException(path, $"The 20 Newsgroups archive {path} is empty (0 bytes).");
        }

        if (read < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
        {
            throw new CorpusException(path, $"{path} is not a gzip file, so not 20news-bydate.tar.gz (it does not start with the gzip signature 1f 8b).");
        }

        file.Position = 0;
    }

    /// <summary>Receives one post: its id and its text, a span valid only during the call.</summary>
    internal delegate void DocumentAction(NewsgroupsDocumentId id, ReadOnlySpan<char> text);

    // Walks the posts of a .tar.gz: file -> gzip -> tar, each post's bytes read into one reused buffer.
    // Every read error becomes a CorpusException naming the archive.
    private sealed class ArchiveCursor : IDisposable
    {
        private readonly string path;
        private readonly FileStream file;
        private readonly GZipStream gzip;
        private readonly TarReader tar;
        private readonly HashSet<string> groupNames = new(StringComparer.Ordinal);
        private byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        private int length;

        public ArchiveCursor(string path)
        {
            this.path = path;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CorpusException(path, $"Could not open the 20 Newsgroups archive {path}: {e.Message}", e);
            }

            try
            {
                CheckGzipMagic(file, path);
            }
            catch
            {
                file.Dispose();
                throw;
            }

            gzip = new GZipStream(file, CompressionMode.Decompress);
            tar = new TarReader(gzip);
        }

        public NewsgroupsDocumentId Id { get; private set; }

        public ReadOnlySpan<byte> Bytes => buffer.AsSpan(0, length);

        public bool MoveNext()
        {
            try
            {
                while (tar.GetNextEntry(copyData: false) is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                        || !TryParseEntryName(entry.Name, groupNames, out var id))
                    {
                        continue;
                    }

                    length = checked((int)entry.Length);
                    if (buffer.Length < length)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(length);
                    }

                    if (length > 0)
                    {
                        var data = entry.DataStream ?? throw new EndOfStreamException($"entry {entry.Name} has no data");
                        data.ReadExactly(buffer, 0, length);
                    }

                    Id = id;
                    return true;
                }

                return false;
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or IOException or OverflowException or NotSupportedException)
            {
                throw new CorpusException(path, $"The 20 Newsgroups archive {path} is truncated or corrupt: {e.Message}", e);
            }
        }

        public void Dispose()
        {
            tar.Dispose();
            gzip.Dispose();
            file.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
        }
    }

    // Counts documents per split and group, to check the release's numbers at the end.
    private sealed class Counter(string path)
    {
        private readonly SortedSet<string> trainGroups = new(StringComparer.Ordinal);
        private readonly SortedSet<string> testGroups = new(StringComparer.Ordinal);
        private int train;
        private int test;

        public void Add(NewsgroupsDocumentId id)
        {
            if (id.Split == NewsgroupsSubset.Train)
            {
                train++;
                trainGroups.Add(id.Group);
            }
            else
            {
                test++;
                testGroups.Add(id.Group);
            }
        }

        public void Verify()
        {
            if (train + test == 0)
            {
                throw new CorpusException(path, $"{path} holds no 20news-bydate documents (no files under {TrainFolder}/<group>/ or {TestFolder}/<group>/).");
            }

            if (train != ExpectedTrainDocuments || test != ExpectedTestDocuments || trainGroups.Count != ExpectedGroups || !trainGroups.SetEquals(testGroups))
            {
                throw new CorpusException(
                    path,
                    $"{path} holds {train} train and {test} test documents in {trainGroups.Count} and {testGroups.Count} groups; " +
                    $"the 20news-bydate release has {ExpectedTrainDocuments} train and {ExpectedTestDocuments} test documents in the same {ExpectedGroups} groups. " +
                    "The archive is incomplete or not 20news-bydate.tar.gz.");
            }
        }
    }
}
