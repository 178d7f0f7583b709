namespace Tensorlet.Models.Data;

/// <summary>A text file is not valid UTF-8; the message names the file and the byte offset of the first bad sequence.</summary>
public sealed class InvalidTextException : Exception
{
    /// <summary>Creates the exception for the bad bytes at <paramref name="byteOffset"/> of <paramref name="path"/>.</summary>
    public InvalidTextException(string path, long byteOffset, string message)
        : base(message)
    {
        Path = path;
        ByteOffset = byteOffset;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The offset, from 0 at the file's first byte, of the first byte that does not decode.</summary>
    public long ByteOffset { get; }
}
