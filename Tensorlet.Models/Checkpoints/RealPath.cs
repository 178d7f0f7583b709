using System.Runtime.InteropServices;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// A path with every symbolic link on it resolved as the system resolves it, through <c>realpath(3)</c> on Linux and
/// macOS: a link's target is followed from where the link is, and a '..' after a linked folder leads out of the folder
/// the link leads to (text-only normalisation, as Path.GetFullPath does, would take it back out of the link instead).
/// </summary>
internal static partial class RealPath
{
    /// <summary>
    /// <paramref name="path"/> resolved; when it does not exist, its nearest existing folder resolved and the rest
    /// appended, since a file about to be written is named by its folder. Elsewhere than Linux and macOS, the full path.
    /// </summary>
    public static string Of(string path)
    {
        // Joined, not normalised: '..' must be left for the system to apply after the links before it.
        string joined = System.IO.Path.IsPathRooted(path) ? path : System.IO.Path.Join(Environment.CurrentDirectory, path);
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return System.IO.Path.GetFullPath(joined);
        }

        var rest = new Stack<string>();
        for (string? prefix = joined.TrimEnd('/'); !string.IsNullOrEmpty(prefix); prefix = System.IO.Path.GetDirectoryName(prefix))
        {
            if (Resolve(prefix) is { } resolved)
            {
                foreach (var name in rest)
                {
                    resolved = System.IO.Path.Join(resolved, name);
                }

                return System.IO.Path.GetFullPath(resolved);
            }

            rest.Push(System.IO.Path.GetFileName(prefix));
        }

        return System.IO.Path.GetFullPath(joined);
    }

    // The resolved path, or null when it does not exist (or cannot be resolved).
    private static string? Resolve(string path)
    {
        nint result;
        try
        {
            result = NativeRealPath(path, 0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }

        if (result == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(result);
        }
        finally
        {
            Free(result);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint NativeRealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
