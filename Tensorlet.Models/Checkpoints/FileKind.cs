using System.Runtime.InteropServices;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// Whether a path names something other than a regular file or a folder: a device, a pipe or a socket, which an atomic
/// write must not replace with a file (<c>--onnx /dev/stdout</c> would otherwise turn the device link into a file).
/// .NET reports these as ordinary files, so on Linux the type comes from <c>statx</c>, whose struct is the same on
/// every architecture; elsewhere nothing is reported as special.
/// </summary>
internal static partial class FileKind
{
    private const int AtCurrentFolder = -100;
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28;
    private const int TypeMask = 0xF000;
    private const int RegularFile = 0x8000;
    private const int Folder = 0x4000;

    /// <summary>True when <paramref name="fullPath"/> exists (links followed) and is neither a regular file nor a folder.</summary>
    public static bool IsSpecial(string fullPath)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[256];
        try
        {
            if (Statx(AtCurrentFolder, fullPath, 0, StatxType, ref MemoryMarshal.GetReference(buffer)) != 0)
            {
                return false; // Missing, or not reachable: the write itself reports what is wrong.
            }
        }
        catch (EntryPointNotFoundException)
        {
            return false; // A C library older than glibc 2.28.
        }

        int type = BitConverter.ToUInt16(buffer[ModeOffset..]) & TypeMask;
        return type is not RegularFile and not Folder;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int folder, string path, int flags, uint mask, ref byte buffer);
}
