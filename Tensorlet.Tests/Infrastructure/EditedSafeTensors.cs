using System.Buffers.Binary;
using System.Text.Json;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>
/// Finds and rewrites the files of a saved checkpoint in place, as damage, a hand edit or an older version can leave
/// them, for the tests of what a load refuses or still takes. Each rewrite keeps everything it is not asked to change.
/// </summary>
internal static class EditedSafeTensors
{
    /// <summary>The optimizer file saved beside <paramref name="modelPath"/>: the one <c>NAME.optimizer.*.safetensors</c> in its folder.</summary>
    public static string OptimizerFileOf(string modelPath) =>
        Directory.GetFiles(Path.GetDirectoryName(modelPath)!, Path.GetFileNameWithoutExtension(modelPath) + ".optimizer.*.safetensors").Single();

    /// <summary>Rewrites <paramref name="path"/> with its metadata changed by <paramref name="edit"/>; the tensors stay.</summary>
    public static void EditMetadata(string path, Action<Dictionary<string, string>> edit)
    {
        var file = SafeTensorsFile.Read(path);
        var metadata = file.Metadata.ToDictionary();
        edit(metadata);
        SafeTensorsFile.Write(path, file.Tensors.Values, metadata);
    }

    /// <summary>
    /// Rewrites <paramref name="path"/> with element <paramref name="index"/> of tensor <paramref name="name"/> (which
    /// must be there) set to <paramref name="value"/>; every other value and the metadata stay.
    /// </summary>
    public static void SetElement(string path, string name, int index, float value)
    {
        var file = SafeTensorsFile.Read(path);
        Assert.That(file.Tensors.ContainsKey(name), name);
        var tensors = file.Tensors.Values.Select(t => t.Name == name ? new SafeTensor(t.Name, [.. t.Shape], [.. t.Data.Select((v, i) => i == index ? value : v)]) : t);
        SafeTensorsFile.Write(path, tensors, file.Metadata);
    }

    /// <summary>
    /// Rewrites <paramref name="path"/> in place: tensor <paramref name="name"/> becomes <paramref name="dtype"/> ("I64",
    /// "I32", "I16", "I8", "U8" or "BOOL") holding 1, 0, 1, 0, ...; every other tensor stays F32 with its values, and
    /// the metadata is kept. The file stays well-formed, so only a reader that checks dtypes notices; it is written here
    /// byte by byte, since SafeTensorsFile.Write makes only F32, I32 and I64 tensors.
    /// </summary>
    public static void Retype(string path, string name, string dtype)
    {
        int size = dtype switch
        {
            "I64" => 8,
            "I32" => 4,
            "I16" => 2,
            "I8" or "U8" or "BOOL" => 1,
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "an integer or bool dtype"),
        };
        var file = SafeTensorsFile.Read(path);
        Assert.That(file.Tensors.ContainsKey(name), name);
        using var data = new MemoryStream();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject(SafeTensorsFile.MetadataKey);
            foreach (var (key, value) in file.Metadata)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            foreach (var tensor in file.Tensors.Values)
            {
                long begin = data.Length;
                bool retyped = tensor.Name == name;
                var element = new byte[retyped ? size : 4];
                for (int i = 0; i < tensor.Data.Length; i++)
                {
                    if (retyped)
                    {
                        // Little-endian 1 or 0 in the dtype's width.
                        element[0] = (byte)(i % 2 == 0 ? 1 : 0);
                    }
                    else
                    {
                        BinaryPrimitives.WriteSingleLittleEndian(element, tensor.Data[i]);
                    }

                    data.Write(element);
                }

                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", retyped ? dtype : "F32");
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(begin);
                json.WriteNumberValue(data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        File.WriteAllBytes(path, [.. length, .. header.ToArray(), .. data.ToArray()]);
        Assert.That(SafeTensorsFile.Read(path).Tensors[name].DType.Name(), Is.EqualTo(dtype), "the rewritten file reads, with the new dtype");
    }
}
