namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Replaces a model file and its optimizer file together or not at all. The optimizer state goes to a new,
/// uniquely named sibling, <c>NAME.optimizer.GUID.safetensors</c>; the model file, which names that sibling in
/// its metadata, is then renamed into place, and that one rename is the commit: before it the previous pair is
/// whole and in use, after it the new one. Only then are the optimizer files the model file no longer names
/// deleted. A process killed at any step leaves at worst an unnamed optimizer file or a hidden temporary file,
/// which <see cref="RemoveLeftovers"/> (called by every save, and by a resume) deletes. Both files record the same
/// random pair id (<see cref="PairIdKey"/>), new at every save, so that an optimizer file put in the place of the one
/// saved with the model (another run's, of the same step) is refused on load (<see cref="CheckSavedTogether"/>).
/// </summary>
internal static class CheckpointPair
{
    /// <summary>The model file's metadata key that names its optimizer file (a file name in the same folder).</summary>
    public const string OptimizerFileKey = "tensorlet.optimizer_file";

    /// <summary>
    /// The metadata key, in both files of a pair, of the id that binds them: random and new at every save. Pairs saved
    /// before it was recorded have it in neither file.
    /// </summary>
    public const string PairIdKey = "tensorlet.pair_id";

    // Held for the whole of a save, so a second Ctrl+C can wait for it (ModelCheckpoint.WaitForSaves).
    private static readonly Lock Gate = new();

    /// <summary>Blocks until no save is in progress in this process.</summary>
    public static void WaitForSaves()
    {
        lock (Gate)
        {
        }
    }

    /// <summary>
    /// Writes the pair: <paramref name="writeOptimizer"/> (when given) writes the optimizer file at the path it is
    /// passed, recording the pair id it is passed under <see cref="PairIdKey"/>; <paramref name="writeModel"/> then
    /// writes the model file with the metadata it is passed, which names the optimizer file under
    /// <see cref="OptimizerFileKey"/> and records the same pair id.
    /// </summary>
    public static void Save(string modelPath, IDictionary<string, string> metadata, Action<string, string>? writeOptimizer, Action<IReadOnlyDictionary<string, string>> writeModel)
    {
        var fullPath = Path.GetFullPath(modelPath);
        var folder = Path.GetDirectoryName(fullPath)!;
        lock (Gate)
        {
            RemoveTemporaryFiles(fullPath);
            string? optimizerName = null;
            if (writeOptimizer is not null)
            {
                var pairId = Guid.NewGuid().ToString("N");
                optimizerName = $"{Stem(fullPath)}.optimizer.{pairId}.safetensors";
                writeOptimizer(Path.Combine(folder, optimizerName), pairId);
                metadata[OptimizerFileKey] = optimizerName;
                metadata[PairIdKey] = pairId;
            }
            else
            {
                metadata.Remove(OptimizerFileKey);
                metadata.Remove(PairIdKey);
            }

            writeModel(metadata.AsReadOnly());
            foreach (var stale in OptimizerFiles(fullPath).Where(f => Path.GetFileName(f) != optimizerName))
            {
                TryDelete(stale);
            }

            SaveStep.Reached("committed", fullPath);
        }
    }

    /// <summary>
    /// The optimizer file that goes with a model file whose metadata is <paramref name="metadata"/>: the one it
    /// names, or for a checkpoint from before pairs were committed as one, <c>NAME.optimizer.safetensors</c>.
    /// </summary>
    /// <exception cref="CheckpointException">The metadata names something other than a sibling optimizer file.</exception>
    public static string OptimizerPath(string modelPath, IReadOnlyDictionary<string, string> metadata)
    {
        var fullPath = Path.GetFullPath(modelPath);
        if (!metadata.TryGetValue(OptimizerFileKey, out var name))
        {
            return Path.ChangeExtension(fullPath, null) + ".optimizer.safetensors";
        }

        if (!IsOptimizerFileName(fullPath, name))
        {
            throw new CheckpointException($"{modelPath} names '{name}' as its optimizer file; expected {Stem(fullPath)}.optimizer.*.safetensors in the same folder.");
        }

        return Path.Combine(Path.GetDirectoryName(fullPath)!, name);
    }

    /// <summary>
    /// Throws unless <paramref name="optimizer"/> was saved with <paramref name="model"/>: both record the same pair id,
    /// or, for a pair saved before the id was recorded, neither does (then ModelCheckpoint compares the steps; ModuleCheckpoint's
    /// model file records none).
    /// </summary>
    /// <exception cref="CheckpointException">The two files record different pair ids, or only one of them records one.</exception>
    public static void CheckSavedTogether(SafeTensorsFile model, SafeTensorsFile optimizer)
    {
        model.Metadata.TryGetValue(PairIdKey, out var modelId);
        optimizer.Metadata.TryGetValue(PairIdKey, out var optimizerId);
        if (modelId != optimizerId)
        {
            throw new CheckpointException(
                $"{optimizer.Path} was not saved with {model.Path}: they record different pair ids ({optimizerId ?? "none"} and {modelId ?? "none"}), so the optimizer state is another checkpoint's; put back the optimizer file saved with this model.");
        }
    }

    /// <summary>
    /// Deletes what an interrupted save of <paramref name="modelPath"/> left behind: hidden temporary files, and
    /// optimizer files the model file does not name (all of them when there is no model file). When the model file
    /// is there, they are deleted only if it is readable and the optimizer file it names is present: a model file put
    /// there by hand (a copy of the best one, another run's) names no file here, and must not cost the run the
    /// optimizer state it still has.
    /// </summary>
    public static void RemoveLeftovers(string modelPath)
    {
        var fullPath = Path.GetFullPath(modelPath);
        lock (Gate)
        {
            RemoveTemporaryFiles(fullPath);
            string? keep;
            if (!File.Exists(fullPath))
            {
                keep = null;
            }
            else
            {
                try
                {
                    keep = OptimizerPath(fullPath, SafeTensorsFile.Read(fullPath).Metadata);
                }
                catch (CheckpointException)
                {
                    return;
                }
            }

            if (keep is not null && !File.Exists(keep))
            {
                return;
            }

            foreach (var stale in OptimizerFiles(fullPath).Where(f => f != keep))
            {
                TryDelete(stale);
            }
        }
    }

    /// <summary>Deletes the model file, its optimizer files and any leftovers of interrupted saves.</summary>
    public static void Delete(string modelPath)
    {
        var fullPath = Path.GetFullPath(modelPath);
        lock (Gate)
        {
            File.Delete(fullPath);
            RemoveLeftovers(fullPath);
        }
    }

    private static string Stem(string fullPath) => Path.GetFileNameWithoutExtension(fullPath);

    private static bool IsOptimizerFileName(string fullPath, string name)
        => name == Path.GetFileName(name) && name.StartsWith(Stem(fullPath) + ".optimizer.", StringComparison.Ordinal)
            && name.EndsWith(".safetensors", StringComparison.Ordinal) && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0;

    // NAME.optimizer.safetensors (the old layout) and NAME.optimizer.GUID.safetensors.
    private static IEnumerable<string> OptimizerFiles(string fullPath)
    {
        var folder = Path.GetDirectoryName(fullPath)!;
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder, Stem(fullPath) + ".optimizer*.safetensors").Where(f => IsOptimizerFileName(fullPath, Path.GetFileName(f)))
            : [];
    }

    // AtomicFile's temporaries of the model file and of its optimizer files: .NAME.safetensors.GUID.tmp, .NAME.optimizer.*.tmp.
    private static void RemoveTemporaryFiles(string fullPath)
    {
        AtomicFile.RemoveTemporaries(fullPath);
        AtomicFile.RemoveTemporaries(Path.Combine(Path.GetDirectoryName(fullPath)!, Stem(fullPath) + ".optimizer"));
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover that cannot be deleted now is retried by the next save; the pair itself is consistent.
        }
    }
}
