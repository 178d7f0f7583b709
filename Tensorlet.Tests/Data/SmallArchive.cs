using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Tensorlet.Tests.Data;

/// <summary>Builds small 20news-bydate-like .tar.gz archives and folders in a temporary directory, for the reader's own tests.</summary>
internal sealed class SmallArchive : IDisposable
{
    public SmallArchive()
    {
        Directory = Path.Combine(Path.GetTempPath(), "tensorlet-data-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    /// <summary>Writes a .tar.gz holding <paramref name="files"/> (entry name → latin-1 text), in the given order.</summary>
    public string WriteArchive(string name, IEnumerable<(string Entry, string Text)> files)
    {
        var path = Path.Combine(Directory, name);
        using var file = File.Create(path);
        using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            var folders = new HashSet<string>();
            foreach (var (entry, text) in files)
            {
                int slash = entry.LastIndexOf('/');
                var folder = slash < 0 ? null : entry[..slash];
                if (folder is not null && folders.Add(folder))
                {
                    tar.WriteEntry(new UstarTarEntry(TarEntryType.Directory, folder + "/"));
                }

                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, entry) { DataStream = new MemoryStream(Encoding.Latin1.GetBytes(text)) });
            }
        }

        return path;
    }

    /// <summary>Writes the files under a folder, as an extracted archive.</summary>
    public string WriteFolder(string name, IEnumerable<(string Entry, string Text)> files)
    {
        var root = Path.Combine(Directory, name);
        foreach (var (entry, text) in files)
        {
            var path = Path.Combine(root, entry);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, Encoding.Latin1.GetBytes(text));
        }

        return root;
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
