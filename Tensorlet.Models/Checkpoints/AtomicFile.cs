namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Replaces a file all at once: the content goes to a temporary file in the same folder, is flushed to
/// disk, then renamed over the target (over the file a symbolic link leads to, when the target is a link; a device,
/// pipe or socket is refused). A crash or an exception mid-write leaves the old file as it was
/// and no temporary file behind (a rename within one folder is atomic on Linux, macOS and NTFS). A process
/// killed mid-write can leave its hidden temporary file, <c>.NAME.GUID.tmp</c> (<see cref="RemoveLeftovers"/> deletes
/// it); the target is never torn.
/// </summary>
/// <remarks>
/// Every file Tensorlet writes (checkpoints, optimizer state, ONNX models, exported corpora, downloads) goes through
/// this class; it is public so that an application's own files (settings, metrics, charts) get the same guarantee
/// from the same code.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, creating its folder if needed.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="write">Writes the whole content to the stream; the stream is flushed and closed afterwards.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var (fullPath, temp) = Prepare(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                SaveStep.Reached("created", temp);
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            Commit(temp, fullPath);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>, as <see cref="Write"/> does, for content that
    /// arrives asynchronously. The write may check what it wrote and throw: the target is then left as it was.
    /// </summary>
    internal static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var (fullPath, temp) = Prepare(path);
        try
        {
            var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16, useAsync: true);
            await using (stream.ConfigureAwait(false))
            {
                SaveStep.Reached("created", temp);
                await write(stream, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }

            Commit(temp, fullPath);
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

    // The target's full path and a temporary beside it, its folder created. The temporary is hidden and unique, so a
    // reader globbing "*.safetensors" never sees it and two writers never collide.
    /// <summary>
    /// The file that a write of <paramref name="path"/> replaces: its full path with every symbolic link on it resolved
    /// as the system resolves it (for a file not written yet, through its nearest existing folder). Two names of one
    /// file give the same path, so an application can refuse to write over a file it reads.
    /// </summary>
    public static string ResolvePath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return RealPath.Of(path);
    }

    private static (string FullPath, string Temp) Prepare(string path)
    {
        // A symbolic link is written through: the file it leads to is replaced, and the link stays a link.
        var fullPath = RealPath.Of(path);
        if (Directory.Exists(fullPath))
        {
            // Before anything is written: the rename at the end would fail with the OS's terse "Is a directory".
            throw new IOException($"{fullPath} is a folder; give the path of the file to write.");
        }

        if (FileKind.IsSpecial(fullPath))
        {
            throw new IOException($"{fullPath} is a device, a pipe or a socket, not a file; give the path of a file to write.");
        }

        var folder = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no parent folder.", nameof(path));
        Directory.CreateDirectory(folder);
        return (fullPath, Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp"));
    }

    // Renames the written and flushed temporary over the target: the one moment the new content takes over.
    private static void Commit(string temp, string fullPath)
    {
        SaveStep.Reached("written", temp);
        File.Move(temp, fullPath, overwrite: true);
        SaveStep.Reached("renamed", fullPath);
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
