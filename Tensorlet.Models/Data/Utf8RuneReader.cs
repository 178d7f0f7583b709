using System.Buffers;
using System.Text;

namespace Tensorlet.Models.Data;

/// <summary>Receives the characters (Unicode scalar values) of a text, one at a time.</summary>
internal interface IRuneSink
{
    void Add(int scalar);
}

/// <summary>
/// Streams a UTF-8 file as Unicode scalar values through a sink, a buffer at a time, so that no string of the whole
/// text is ever built. A leading byte-order mark is the encoding's signature, not text, and is skipped; every other
/// character reaches the sink, optionally lowercased (<see cref="Rune.ToLowerInvariant"/>).
/// </summary>
internal static class Utf8RuneReader
{
    private const int BufferSize = 1 << 20;

    /// <exception cref="InvalidTextException">The file is not valid UTF-8 (a bad or truncated sequence), or starts with
    /// UTF-16's byte-order mark.</exception>
    public static void Read<TSink>(string path, bool lowercase, ref TSink sink)
        where TSink : struct, IRuneSink
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            long bufferOffset = 0; // the file offset of buffer[0]
            int carried = 0;
            bool atStart = true;
            while (true)
            {
                int read = stream.Read(buffer, carried, BufferSize - carried);
                bool final = read == 0;
                var bytes = buffer.AsSpan(0, carried + read);
                if (bytes.IsEmpty)
                {
                    return;
                }

                int i = 0;
                if (atStart && (bytes.Length >= 3 || final))
                {
                    atStart = false;
                    if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
                    {
                        i = 3;
                    }
                    else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
                    {
                        // UTF-16's byte-order mark (little or big endian): not a bad byte of UTF-8, but another encoding.
                        throw new InvalidTextException(path, 0, $"{path} looks like UTF-16 (it starts with the byte-order mark 0x{bytes[0]:X2} 0x{bytes[1]:X2}); convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8), as the text must be UTF-8.");
                    }
                }

                i = Decode(path, bytes, i, bufferOffset, final, lowercase, ref sink);
                if (final)
                {
                    return;
                }

                carried = bytes.Length - i;
                bytes[i..].CopyTo(buffer);
                bufferOffset += i;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Decodes bytes[from..] and returns where it stopped: the end, or an incomplete sequence at the end of a buffer that
    // is not the file's last.
    private static int Decode<TSink>(string path, ReadOnlySpan<byte> bytes, int from, long bufferOffset, bool final, bool lowercase, ref TSink sink)
        where TSink : struct, IRuneSink
    {
        int i = from;
        while (i < bytes.Length)
        {
            int b = bytes[i];
            if (b < 0x80)
            {
                sink.Add(lowercase && (uint)(b - 'A') <= 'Z' - 'A' ? b + ('a' - 'A') : b);
                i++;
                continue;
            }

            var status = Rune.DecodeFromUtf8(bytes[i..], out var rune, out int used);
            if (status == OperationStatus.Done)
            {
                sink.Add(lowercase ? Rune.ToLowerInvariant(rune).Value : rune.Value);
                i += used;
            }
            else if (status == OperationStatus.NeedMoreData && !final)
            {
                return i;
            }
            else
            {
                long offset = bufferOffset + i;
                string shown = string.Join(' ', bytes.Slice(i, Math.Min(Math.Max(used, 1), 4)).ToArray().Select(x => $"0x{x:X2}"));
                string what = status == OperationStatus.NeedMoreData ? "a truncated UTF-8 sequence at the end of the file" : "invalid UTF-8";
                throw new InvalidTextException(path, offset, $"{path}: {what} at byte offset {offset} ({shown}); the text must be UTF-8.");
            }
        }

        return i;
    }
}
