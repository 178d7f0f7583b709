using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Reads the safetensors format with full validation before any tensor data is read: the 8-byte header
/// length against the file, the JSON header's structure, each entry's dtype and shape against its byte
/// span, and the spans against each other (contiguous, no overlap, exactly covering the data).
/// </summary>
internal static class SafeTensorsReader
{
    /// <summary>The reference implementation refuses larger headers too; a bigger length means "not safetensors".</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private sealed record Entry(string Name, SafeTensorDType DType, int[] Shape, long Begin, long End);

    public static SafeTensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointException($"{path} does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && Directory.Exists(path))
        {
            // A run folder given where its checkpoint file belongs: .NET reports it as access denied.
            throw new CheckpointException($"{path} is a folder, not a safetensors file.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"Could not open {path}: {e.Message}", e);
        }

        using (stream)
        {
            try
            {
                return Read(path, stream);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CheckpointException($"Could not read {path}: {e.Message}", e);
            }
        }
    }

    private static SafeTensorsFile Read(string path, FileStream stream)
    {
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw new CheckpointException(
                $"{path} is too short to be a safetensors file: {fileLength} bytes, but the header length alone takes 8.");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new CheckpointException(
                $"{path} is truncated or not a safetensors file: its first 8 bytes say the JSON header is {headerLength} bytes, " +
                $"but the file has only {fileLength - 8} bytes after them.");
        }

        if (headerLength > MaxHeaderBytes)
        {
            throw new CheckpointException($"{path} is not a safetensors file: its header length {headerLength} is over the format's {MaxHeaderBytes}-byte limit.");
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        var (entries, metadata) = ParseHeader(path, header);
        var dataLength = fileLength - 8 - (long)headerLength;
        CheckSpans(path, entries, dataLength);

        var tensors = new Dictionary<string, SafeTensor>(entries.Count, StringComparer.Ordinal);
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            var raw = new byte[entry.End - entry.Begin];
            stream.ReadExactly(raw);
            tensors.Add(entry.Name, Convert(entry, raw));
        }

        return new SafeTensorsFile(path, tensors, metadata);
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header)
    {
        // JsonDocument checks UTF-8 only when a string is read; the format says the header is UTF-8 throughout.
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw new CheckpointException($"{path} has a malformed JSON header: it is not valid UTF-8.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path} has a malformed JSON header: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException($"{path} has a malformed header: expected a JSON object, found {Describe(root)}.");
            }

            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                ParseProperties(path, root, entries, metadata, seen);
            }
            catch (InvalidOperationException e)
            {
                // A string escape that is no valid UTF-16 (a lone surrogate such as "\ud800").
                throw new CheckpointException($"{path} has a malformed header: {e.Message}", e);
            }

            return (entries, metadata);
        }
    }

    private static void ParseProperties(string path, JsonElement root, List<Entry> entries, Dictionary<string, string> metadata, HashSet<string> seen)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (!seen.Add(property.Name))
            {
                throw new CheckpointException($"{path} has a malformed header: '{property.Name}' appears twice.");
            }

            if (property.Name == SafeTensorsFile.MetadataKey)
            {
                ParseMetadata(path, property.Value, metadata);
            }
            else
            {
                entries.Add(ParseEntry(path, property.Name, property.Value));
            }
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException($"{path} has malformed metadata: expected an object of strings, found {Describe(value)}.");
        }

        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException($"{path} has malformed metadata: '{item.Name}' is {Describe(item.Value)}, but metadata values must be strings.");
            }

            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new CheckpointException($"{path} has malformed metadata: '{item.Name}' appears twice.");
            }
        }
    }

    private static Entry ParseEntry(string path, string name, JsonElement value)
    {
        var where = $"{path}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException($"{where} has a malformed header entry: expected an object with dtype, shape and data_offsets, found {Describe(value)}.");
        }

        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointException($"{where} has no \"dtype\" string in its header entry.");
        }

        var dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorDTypes.TryParse(dtypeName, out var dtype))
        {
            throw new CheckpointException($"{where} has dtype '{dtypeName}', which Tensorlet cannot read (supported: {SafeTensorDTypes.SupportedNames}).");
        }

        if (!value.TryGetProperty("shape", out var shapeElement) || !TryReadShape(shapeElement, out var shape))
        {
            throw new CheckpointException($"{where} has a malformed shape {Raw(value, "shape")}: expected an array of non-negative integers.");
        }

        if (!value.TryGetProperty("data_offsets", out var offsetsElement) || !TryReadOffsets(offsetsElement, out var begin, out var end))
        {
            throw new CheckpointException($"{where} has malformed data_offsets {Raw(value, "data_offsets")}: expected [begin, end] with 0 <= begin <= end.");
        }

        var count = SafeTensor.CountElements(shape);
        var needed = count > long.MaxValue / dtype.Size() ? long.MaxValue : count * dtype.Size();
        if (needed != end - begin)
        {
            throw new CheckpointException(
                $"{where} has shape {SafeTensor.FormatShape(shape.Select(d => (long)d))} of {dtype.Name()}, which takes {needed} bytes, " +
                $"but its data_offsets [{begin}, {end}] span {end - begin} bytes.");
        }

        if (count > Array.MaxLength)
        {
            throw new CheckpointException($"{where} has {count} elements, more than one .NET array can hold.");
        }

        return new Entry(name, dtype, shape, begin, end);
    }

    private static bool TryReadShape(JsonElement element, out int[] shape)
    {
        shape = [];
        if (element.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        var dims = new List<int>();
        foreach (var d in element.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var dim) || dim < 0)
            {
                return false;
            }

            dims.Add(dim);
        }

        shape = [.. dims];
        return true;
    }

    private static bool TryReadOffsets(JsonElement element, out long begin, out long end)
    {
        begin = end = 0;
        return element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == 2
            && element[0].ValueKind == JsonValueKind.Number && element[0].TryGetInt64(out begin)
            && element[1].ValueKind == JsonValueKind.Number && element[1].TryGetInt64(out end)
            && begin >= 0 && begin <= end;
    }

    /// <summary>The spans must tile [0, dataLength) exactly, as the reference implementation requires.</summary>
    private static void CheckSpans(string path, List<Entry> entries, long dataLength)
    {
        var last = entries.Count == 0 ? 0 : entries.Max(e => e.End);
        if (last > dataLength)
        {
            var culprit = entries.First(e => e.End == last);
            throw new CheckpointException(
                $"{path} is truncated: header says {last} bytes of tensor data, file has {dataLength} (tensor '{culprit.Name}' ends at byte {last}).");
        }

        long position = 0;
        Entry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < position)
            {
                throw new CheckpointException(
                    $"{path} has overlapping tensors: '{entry.Name}' (bytes {entry.Begin}..{entry.End}) overlaps '{previous!.Name}' (bytes {previous.Begin}..{previous.End}).");
            }

            if (entry.Begin > position)
            {
                throw new CheckpointException(
                    $"{path} has a gap in its tensor data: bytes {position}..{entry.Begin}, before tensor '{entry.Name}', belong to no tensor.");
            }

            position = entry.End;
            previous = entry;
        }

        if (position < dataLength)
        {
            throw new CheckpointException(
                $"{path} has {dataLength - position} bytes of tensor data that belong to no tensor: the header covers {position} bytes, the file has {dataLength}.");
        }
    }

    private static SafeTensor Convert(Entry entry, byte[] raw)
    {
        var count = (int)(raw.Length / entry.DType.Size());
        var data = new float[count];
        long[]? integers = entry.DType.IsInteger() ? new long[count] : null;
        switch (entry.DType)
        {
            case SafeTensorDType.F32 when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(data);
                break;
            case SafeTensorDType.F32:
                for (var i = 0; i < count; i++)
                {
                    data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4));
                }

                break;
            case SafeTensorDType.F64:
                for (var i = 0; i < count; i++)
                {
                    data[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(i * 8));
                }

                break;
            case SafeTensorDType.F16:
                for (var i = 0; i < count; i++)
                {
                    data[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(raw.AsSpan(i * 2));
                }

                break;
            case SafeTensorDType.BF16:
                // bfloat16 is the high 16 bits of a float32.
                for (var i = 0; i < count; i++)
                {
                    data[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(i * 2)) << 16);
                }

                break;
            case SafeTensorDType.I64:
                for (var i = 0; i < count; i++)
                {
                    integers![i] = BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(i * 8));
                }

                break;
            case SafeTensorDType.I32:
                for (var i = 0; i < count; i++)
                {
                    integers![i] = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 4));
                }

                break;
            case SafeTensorDType.I16:
                for (var i = 0; i < count; i++)
                {
                    integers![i] = BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(i * 2));
                }

                break;
            case SafeTensorDType.I8:
                for (var i = 0; i < count; i++)
                {
                    integers![i] = (sbyte)raw[i];
                }

                break;
            case SafeTensorDType.U8:
                for (var i = 0; i < count; i++)
                {
                    integers![i] = raw[i];
                }

                break;
            case SafeTensorDType.Bool:
                for (var i = 0; i < count; i++)
                {
                    integers![i] = raw[i] != 0 ? 1 : 0;
                }

                break;
            default:
                throw new InvalidOperationException($"Unhandled dtype {entry.DType}.");
        }

        if (integers is not null)
        {
            for (var i = 0; i < count; i++)
            {
                data[i] = integers[i];
            }
        }

        return SafeTensor.FromFile(entry.Name, entry.DType, entry.Shape, data, integers);
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => element.ValueKind.ToString(),
    };

    private static string Raw(JsonElement entry, string property)
    {
        if (!entry.TryGetProperty(property, out var value))
        {
            return "(missing)";
        }

        var text = value.GetRawText();
        return text.Length > 80 ? text[..80] + "..." : text;
    }
}
