namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Replaces a file all at once: the content goes to a temporary file in the same folder, is flushed to
/// disk, then renamed over the target. A crash or an exception mid-write leaves the old file as it was
/// and no temporary file behind (a rename within one folder is atomic on Linux, macOS and NTFS). A process
/// killed mid-write can leave its hidden temporary file, <c>.NAME.GUID.tmp</c> (<see cref="RemoveLeftovers"/> deletes
/// it); the target is never torn.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, creating its folder if needed.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="write">Writes the whole content to the stream; the stream is flushed and closed afterwards.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var fullPath = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        Directory.CreateDirectory(folder);

        // Hidden and unique, so a reader globbing "*.safetensors" never sees it and two writers never collide.
        var temp = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                SaveFaultPoint.Reached("created", temp);
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            SaveFaultPoint.Reached("written", temp);
            File.Move(temp, fullPath, overwrite: true);
            SaveFaultPoint.Reached("renamed", fullPath);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Deletes the hidden temporary files that writes of <paramref name="path"/> killed mid-write left beside it; the
    /// file itself is never touched. Call it before relying on a folder being tidy, for example when resuming.
    /// </summary>
    /// <param name="path">A file written with <see cref="Write"/>.</param>
    public static void RemoveLeftovers(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RemoveTemporaries(Path.GetFullPath(path));
    }

    // Deletes the temporaries of fullPath (whose file name may hold wildcards): .NAME.*.tmp in its folder.
    internal static void RemoveTemporaries(string fullPath)
    {
        var folder = Path.GetDirectoryName(fullPath);
        if (folder is null || !Directory.Exists(folder))
        {
            return;
        }

        foreach (var temp in Directory.GetFiles(folder, $".{Path.GetFileName(fullPath)}.*.tmp"))
        {
            TryDelete(temp);
        }
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
            // A temporary that cannot be deleted now is harmless: the target is whole, and the original error matters more.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
