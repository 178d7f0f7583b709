using System.Globalization;
using System.Numerics;
using System.Text;

namespace Tensorlet.Models.Data;

/// <summary>
/// A plain text to train on: one UTF-8 file, or every <c>*.txt</c> file of a folder (not its subfolders) in ordinal
/// order of their names, joined as they are. A character is a Unicode scalar value (<see cref="Rune"/>), so accented
/// letters, CJK and emoji are one character each and "\n" is a character; nothing is dropped except a leading
/// byte-order mark, and characters are lowercased only when asked.
/// <para>
/// Loading takes two streaming passes and never holds the text as a string: the first counts the characters and
/// builds the vocabulary (sorted by scalar value), the second writes each character's id into <see cref="CharIds"/>,
/// one byte per character for vocabularies of up to 256 characters. A 100 MB text of such a vocabulary takes about
/// 100 MB.
/// </para>
/// </summary>
public sealed class TextCorpus
{
    private const int ScalarCount = 0x110000;

    private TextCorpus(IReadOnlyList<string> files, CharVocabulary vocabulary, CharIds ids, bool lowercase)
    {
        Files = files;
        Vocabulary = vocabulary;
        Ids = ids;
        Lowercase = lowercase;
    }

    /// <summary>The files read, in order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>Every character of the text, sorted by scalar value.</summary>
    public CharVocabulary Vocabulary { get; }

    /// <summary>The whole text as character ids.</summary>
    public CharIds Ids { get; }

    /// <summary>Whether the text was lowercased.</summary>
    public bool Lowercase { get; }

    /// <summary>The number of characters.</summary>
    public int Length => Ids.Length;

    /// <summary>Reads the file or folder at <paramref name="path"/>; its vocabulary is every character it holds.</summary>
    /// <param name="path">A UTF-8 text file, or a folder whose <c>*.txt</c> files are read in ordinal order.</param>
    /// <param name="lowercase">Lowercase every character (<see cref="Rune.ToLowerInvariant"/>).</param>
    /// <exception cref="CorpusException">The path does not exist, a folder holds no <c>*.txt</c> file, the text is empty
    /// or longer than an array holds, or a file changed while it was read.</exception>
    /// <exception cref="InvalidTextException">A file is not valid UTF-8; the message names it and the byte offset.</exception>
    public static TextCorpus Load(string path, bool lowercase = false) => Read(path, vocabulary: null, lowercase);

    /// <summary>
    /// Reads the file or folder at <paramref name="path"/> as ids of <paramref name="vocabulary"/>, a trained model's,
    /// to go on training it on a new text (char-rnn's <c>-init_from</c>). The text may use only some of its characters;
    /// one outside it is an error, as it would have no id.
    /// </summary>
    /// <param name="path">A UTF-8 text file, or a folder whose <c>*.txt</c> files are read in ordinal order.</param>
    /// <param name="vocabulary">The vocabulary whose ids the text is read as; it becomes <see cref="Vocabulary"/>.</param>
    /// <param name="lowercase">Lowercase every character (<see cref="Rune.ToLowerInvariant"/>).</param>
    /// <exception cref="CorpusException">As <see cref="Load(string, bool)"/>, and when the text holds characters outside
    /// <paramref name="vocabulary"/> (the message lists them, most frequent first, with their counts).</exception>
    /// <exception cref="InvalidTextException">A file is not valid UTF-8; the message names it and the byte offset.</exception>
    public static TextCorpus Load(string path, CharVocabulary vocabulary, bool lowercase = false)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return Read(path, vocabulary, lowercase);
    }

    /// <summary>
    /// Splits off the last <paramref name="validationFraction"/> of the text, whole, for validation (char-rnn holds out
    /// 0.05); the training part is everything before it. Both are views of <see cref="Ids"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The fraction is outside [0, 1).</exception>
    public (CharIds Train, CharIds Validation) Split(double validationFraction)
    {
        if (!(validationFraction >= 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), string.Create(CultureInfo.InvariantCulture, $"The validation fraction is in [0, 1); got {validationFraction}."));
        }

        int validation = (int)(Length * validationFraction);
        return (Ids.Slice(0, Length - validation), Ids.Slice(Length - validation, validation));
    }

    /// <summary>
    /// <see cref="Load(string, bool)"/> with a smaller limit on the characters than <see cref="Array.MaxLength"/>, so that
    /// tests reach it without reading gigabytes.
    /// </summary>
    internal static TextCorpus Load(string path, bool lowercase, int maxCharacters) => Read(path, vocabulary: null, lowercase, maxCharacters);

    // Two passes: the first counts each character (and checks it against a given vocabulary), the second writes ids.
    // The first stops at the character past maxCharacters, so that an endless file (/dev/zero, a FIFO) ends too.
    private static TextCorpus Read(string path, CharVocabulary? vocabulary, bool lowercase, int maxCharacters = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(path);
        var files = FilesOf(path);
        var counter = new CountingSink(new int[ScalarCount], path, Math.Min(maxCharacters, Array.MaxLength));
        foreach (var file in files)
        {
            Utf8RuneReader.Read(file, lowercase, ref counter);
        }

        if (counter.Total == 0)
        {
            throw new CorpusException(path, $"{path} holds no text.");
        }

        vocabulary ??= CharVocabulary.FromRunes(Present(counter.Counts));
        var idOf = IdsOf(path, vocabulary, counter.Counts);
        var ids = CharIds.Allocate(counter.Total, vocabulary.Count);
        int written = ids.Write<MappingWriter, int>(new MappingWriter(path, files, lowercase, idOf));
        if (written != ids.Length)
        {
            throw new CorpusException(path, $"{path} changed while it was read: {ids.Length} characters at first, {written} the second time.");
        }

        return new TextCorpus(files, vocabulary, ids, lowercase);
    }

    // The characters counted, in order of scalar value.
    private static List<Rune> Present(int[] counts)
    {
        var runes = new List<Rune>();
        for (int scalar = 0; scalar < ScalarCount; scalar++)
        {
            if (counts[scalar] > 0)
            {
                runes.Add(new Rune(scalar));
            }
        }

        return runes;
    }

    // Each scalar's id in the vocabulary, -1 for those it lacks; every counted character must have one.
    private static int[] IdsOf(string path, CharVocabulary vocabulary, int[] counts)
    {
        var idOf = new int[ScalarCount];
        Array.Fill(idOf, -1);
        for (int id = 0; id < vocabulary.Count; id++)
        {
            idOf[vocabulary.RuneAt(id).Value] = id;
        }

        var unknown = Enumerable.Range(0, ScalarCount).Where(s => counts[s] > 0 && idOf[s] < 0).ToArray();
        if (unknown.Length > 0)
        {
            const int Listed = 8;
            var listed = unknown.OrderByDescending(s => counts[s]).ThenBy(s => s).Take(Listed)
                .Select(s => string.Create(CultureInfo.InvariantCulture, $"{CharVocabulary.Quote(new Rune(s))} ×{counts[s]:N0}"));
            string more = unknown.Length > Listed ? $" and {unknown.Length - Listed} more" : "";
            throw new CorpusException(path, string.Create(
                CultureInfo.InvariantCulture,
                $"{path} has {unknown.Length} character{(unknown.Length == 1 ? "" : "s")} that the vocabulary of {vocabulary.Count} lacks: {string.Join(", ", listed)}{more}."));
        }

        return idOf;
    }

    private static string[] FilesOf(string path)
    {
        if (File.Exists(path))
        {
            return [path];
        }

        if (!Directory.Exists(path))
        {
            throw new CorpusException(path, $"{path} does not exist: give a UTF-8 text file or a folder of *.txt files.");
        }

        var files = Directory.GetFiles(path, "*.txt", SearchOption.TopDirectoryOnly);
        if (files.Length == 0)
        {
            throw new CorpusException(path, $"The folder {path} holds no *.txt file.");
        }

        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    private struct CountingSink(int[] counts, string path, int maxCharacters) : IRuneSink
    {
        public readonly int[] Counts => counts;

        public int Total { get; private set; }

        public void Add(int scalar)
        {
            if (Total == maxCharacters)
            {
                throw CorpusException.TooLong(path, maxCharacters);
            }

            // A count saturates rather than wraps; any positive count marks the scalar present.
            if (counts[scalar] != int.MaxValue)
            {
                counts[scalar]++;
            }

            Total++;
        }
    }

    private struct IdSink<T>(T[] ids, int[] idOf) : IRuneSink
        where T : unmanaged, IBinaryInteger<T>
    {
        // Counts past the end too, so that a file that grew between the passes is reported, not an index error.
        public int Written { get; private set; }

        public bool Unknown { get; private set; }

        public void Add(int scalar)
        {
            int id = idOf[scalar];
            if (id < 0)
            {
                Unknown = true;
            }
            else if (Written < ids.Length)
            {
                ids[Written] = T.CreateTruncating(id);
            }

            Written++;
        }
    }

    private readonly struct MappingWriter(string path, string[] files, bool lowercase, int[] idOf) : IIdWriter<int>
    {
        public int Write<T>(T[] ids)
            where T : unmanaged, IBinaryInteger<T>
        {
            var sink = new IdSink<T>(ids, idOf);
            foreach (var file in files)
            {
                Utf8RuneReader.Read(file, lowercase, ref sink);
            }

            return sink.Unknown ? throw new CorpusException(path, $"{path} changed while it was read: a character appeared that the first pass did not see.") : sink.Written;
        }
    }
}
