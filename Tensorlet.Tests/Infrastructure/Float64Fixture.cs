using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using NUnit.Framework;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>
/// Reads one F64 tensor of a safetensors fixture as doubles. The library's reader rounds every dtype to float32, which
/// is all a model needs; a fixture of PyTorch's float64 learning rates is held to torch's exact doubles.
/// </summary>
public static class Float64Fixture
{
    /// <summary>The values of the F64 tensor <paramref name="name"/> in the safetensors file at <paramref name="path"/>.</summary>
    public static double[] Read(string path, string name)
    {
        var bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, checked((int)headerLength)));
        Assert.That(header.RootElement.TryGetProperty(name, out var entry), Is.True, $"{path} has no tensor '{name}'");
        Assert.That(entry.GetProperty("dtype").GetString(), Is.EqualTo("F64"), $"'{name}' in {path}");
        var offsets = entry.GetProperty("data_offsets");
        int start = checked((int)(8 + headerLength + offsets[0].GetInt64())), end = checked((int)(8 + headerLength + offsets[1].GetInt64()));
        var values = new double[(end - start) / 8];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(start + (8 * i)));
        }

        return values;
    }
}
