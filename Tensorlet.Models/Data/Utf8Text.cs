using System.Text;
using Tensorlet.Kernels;

namespace Tensorlet.Models.Data;

/// <summary>
/// A short UTF-8 text file read whole as a string (a start text to continue), by the reader <see cref="TextCorpus"/>
/// uses, so both say the same of a bad file: a leading byte-order mark is skipped, invalid UTF-8 names its byte
/// offset, and UTF-16 is named as such.
/// </summary>
public static class Utf8Text
{
    /// <summary>Reads the UTF-8 file at <paramref name="path"/>, of at most <paramref name="maxCharacters"/> characters.</summary>
    /// <exception cref="CorpusException">The path does not exist, is a folder, or holds more than
    /// <paramref name="maxCharacters"/> characters (reading stops there, so an endless file ends too).</exception>
    /// <exception cref="InvalidTextException">The file is not valid UTF-8; the message names it and the byte offset.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static string ReadFile(string path, int maxCharacters)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentChecks.ThrowIfNegative(maxCharacters);
        if (Directory.Exists(path))
        {
            throw new CorpusException(path, $"{path} is a folder; give a UTF-8 text file.");
        }

        if (!File.Exists(path))
        {
            throw new CorpusException(path, $"{path} does not exist: give a UTF-8 text file.");
        }

        var sink = new StringSink(new StringBuilder(), path, maxCharacters);
        Utf8RuneReader.Read(path, lowercase: false, ref sink);
        return sink.Text.ToString();
    }

    private struct StringSink(StringBuilder text, string path, int maxCharacters) : IRuneSink
    {
        private int count;

        public readonly StringBuilder Text => text;

        public void Add(int scalar)
        {
            if (count++ == maxCharacters)
            {
                throw CorpusException.TooLong(path, maxCharacters);
            }

            text.Append(new Rune(scalar));
        }
    }
}
