namespace Tensorlet.Models.Data;

/// <summary>
/// The 20 Newsgroups corpus could not be found, downloaded or read: a missing, empty, truncated or
/// wrong archive, or a download whose checksum does not match. The message names the file and what is wrong.
/// </summary>
public sealed class CorpusException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> (may be null when no file is involved).</summary>
    public CorpusException(string? path, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Path = path;
    }

    /// <summary>The archive, folder or download target the error is about, when there is one.</summary>
    public string? Path { get; }

    /// <summary>A text file with more characters than a reader takes (its readers stop there, so an endless file ends).</summary>
    internal static CorpusException TooLong(string path, int maxCharacters) => new(path, string.Create(
        System.Globalization.CultureInfo.InvariantCulture, $"{path} holds more than {maxCharacters:N0} characters; at most that many fit."));
}
