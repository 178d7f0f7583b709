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
}
