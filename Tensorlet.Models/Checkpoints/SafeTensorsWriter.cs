using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Writes the safetensors format: an 8-byte little-endian header length, a JSON header padded with
/// spaces to a multiple of 8 bytes, then every tensor's little-endian bytes back to back. Tensors and
/// metadata keys are sorted by ordinal name, so the same content always gives the same bytes (and the
/// same bytes as scripts/make_torch_fixtures.py).
/// </summary>
internal static class SafeTensorsWriter
{
    private const int ChunkElements = 1 << 14;

    /// <summary>Validates everything first, then writes <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var sorted = Validate(path, tensors, metadata);
        var header = BuildHeader(sorted, metadata);
        try
        {
            AtomicFile.Write(path, stream =>
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var tensor in sorted)
                {
                    WriteData(stream, tensor);
                }
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"Could not write {path}: {e.Message}", e);
        }
    }

    private static List<SafeTensor> Validate(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var sorted = tensors.ToList();
        sorted.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (var i = 0; i < sorted.Count; i++)
        {
            var tensor = sorted[i] ?? throw new CheckpointException($"Cannot write {path}: the tensor list holds a null.");
            if (tensor.Name == SafeTensorsFile.MetadataKey)
            {
                throw new CheckpointException($"Cannot write {path}: '{SafeTensorsFile.MetadataKey}' is reserved for metadata and cannot name a tensor.");
            }

            if (i > 0 && sorted[i - 1].Name == tensor.Name)
            {
                throw new CheckpointException($"Cannot write {path}: two tensors are named '{tensor.Name}'.");
            }

            if (tensor.DType is not (SafeTensorDType.F32 or SafeTensorDType.I32 or SafeTensorDType.I64))
            {
                throw new CheckpointException(
                    $"Cannot write {path}: tensor '{tensor.Name}' is {tensor.DType.Name()}; Tensorlet writes F32, I32 and I64 " +
                    "(make an F32 copy with new SafeTensor(name, shape, data)).");
            }
        }

        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (value is null)
                {
                    throw new CheckpointException($"Cannot write {path}: metadata '{key}' is null; safetensors metadata values are strings.");
                }
            }
        }

        return sorted;
    }

    private static byte[] BuildHeader(List<SafeTensor> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsFile.MetadataKey);
                foreach (var key in metadata.Keys.Order(StringComparer.Ordinal))
                {
                    json.WriteString(key, metadata[key]);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var tensor in sorted)
            {
                var bytes = tensor.ElementCount * tensor.DType.Size();
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.Name());
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }

            json.WriteEndObject();
        }

        // Pad with spaces (valid JSON whitespace) so the tensor data starts 8-byte aligned.
        var padded = new byte[(buffer.WrittenCount + 7) / 8 * 8];
        buffer.WrittenSpan.CopyTo(padded);
        padded.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return padded;
    }

    /// <summary>Writes the values little-endian through a small buffer, whatever the machine's byte order.</summary>
    private static void WriteData(Stream stream, SafeTensor tensor)
    {
        var size = tensor.DType.Size();
        var chunk = new byte[ChunkElements * size];
        var count = tensor.ElementCount;
        for (long start = 0; start < count; start += ChunkElements)
        {
            var n = (int)Math.Min(ChunkElements, count - start);
            var bytes = chunk.AsSpan(0, n * size);
            switch (tensor.DType)
            {
                case SafeTensorDType.F32:
                    var data = tensor.Data.AsSpan((int)start, n);
                    for (var i = 0; i < n; i++)
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(bytes[(i * 4)..], data[i]);
                    }

                    break;
                case SafeTensorDType.I32:
                    var ints = tensor.IntegerValues!.AsSpan((int)start, n);
                    for (var i = 0; i < n; i++)
                    {
                        BinaryPrimitives.WriteInt32LittleEndian(bytes[(i * 4)..], (int)ints[i]);
                    }

                    break;
                default:
                    var longs = tensor.IntegerValues!.AsSpan((int)start, n);
                    for (var i = 0; i < n; i++)
                    {
                        BinaryPrimitives.WriteInt64LittleEndian(bytes[(i * 8)..], longs[i]);
                    }

                    break;
            }

            stream.Write(bytes);
        }
    }
}
