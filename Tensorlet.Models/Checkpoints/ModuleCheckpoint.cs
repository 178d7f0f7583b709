using Tensorlet.Nn;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Any module's state_dict as a safetensors file: one tensor per parameter under its PyTorch name, so a file written by
/// <c>safetensors.torch.save_file(model.state_dict(), path)</c> for the same architecture loads, and a saved file loads in PyTorch.
/// </summary>
public static class ModuleCheckpoint
{
    /// <summary>Writes every parameter of <paramref name="module"/> (built, the root) to <paramref name="path"/>, atomically.</summary>
    public static void Save(Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeTensorsFile.Write(path, module.StateDict().Select(p => new SafeTensor(p.Key, p.Value.Shape, p.Value.Data)), metadata);
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="module"/>: every parameter must be there with its shape, and
    /// nothing else may be; float32, float64, float16 and bfloat16 tensors are read as float32. Nothing is written on a mismatch.
    /// </summary>
    /// <exception cref="CheckpointException">The file is unreadable, or its tensors do not match the module's parameters.</exception>
    public static void Load(Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        var file = SafeTensorsFile.Read(path);
        var parameters = module.Parameters.Parameters;
        var state = new Dictionary<string, (int[] Shape, float[] Data)>();
        foreach (var p in parameters)
        {
            if (!file.Tensors.TryGetValue(p.Name, out var t))
            {
                throw new CheckpointException($"{path} has no tensor '{p.Name}' [{string.Join(", ", p.Shape)}]; it has {string.Join(", ", file.Tensors.Keys)}.");
            }

            if (!t.Shape.SequenceEqual(p.Shape))
            {
                throw new CheckpointException($"{path}: tensor '{p.Name}' is {t.ShapeText} but the module needs [{string.Join(", ", p.Shape)}].");
            }

            state[p.Name] = ([.. t.Shape], t.Data);
        }

        var extra = file.Tensors.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (extra.Count > 0)
        {
            throw new CheckpointException($"{path} holds tensor(s) the module does not have: {string.Join(", ", extra)}.");
        }

        module.LoadStateDict(state);
    }
}
