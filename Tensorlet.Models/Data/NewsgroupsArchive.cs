using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Models.Data;

/// <summary>
/// Finds 20news-bydate.tar.gz, or downloads it. Order: 1. an explicit path (the archive or an extracted folder);
/// 2. the folder in <c>TENSORLET_DATA</c> (empty or whitespace counts as unset); 3. the cache folder (<c>$XDG_CACHE_HOME/tensorlet</c>, else
/// <c>~/.cache/tensorlet</c>); 4. a download from scikit-learn's URL into the cache, checked against scikit-learn's
/// SHA-256 and written under a temporary name, then renamed, so the cache never holds a partial file.
/// </summary>
public static class NewsgroupsArchive
{
    /// <summary>The archive's file name.</summary>
    public const string FileName = "20news-bydate.tar.gz";

    /// <summary>The environment variable naming the data folder.</summary>
    public const string DataEnvironmentVariable = "TENSORLET_DATA";

    /// <summary>scikit-learn's SHA-256 of the original download (a repacked copy has another one).</summary>
    public const string Sha256 = "8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610";

    /// <summary>The URL scikit-learn downloads the archive from.</summary>
    public static readonly Uri DownloadUri = new("https://ndownloader.figshare.com/files/5975967");

    /// <summary>
    /// The default cache folder, always an absolute path: <c>$XDG_CACHE_HOME/tensorlet</c> when that is absolute, else
    /// <c>$HOME/.cache/tensorlet</c> (even when HOME does not exist yet), else a <c>tensorlet-cache</c> folder in the
    /// temporary folder.
    /// </summary>
    public static string DefaultCacheDirectory() => CacheDirectoryFor(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME"),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify));

    /// <summary>The cache folder for the given XDG_CACHE_HOME and home folder (either may be null or empty).</summary>
    internal static string CacheDirectoryFor(string? xdgCacheHome, string? home)
    {
        // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored; a relative home (HOME unset or
        // missing gives "" here) would put the cache in whatever folder the program happens to run in.
        if (!string.IsNullOrEmpty(xdgCacheHome) && Path.IsPathFullyQualified(xdgCacheHome))
        {
            return Path.Combine(xdgCacheHome, "tensorlet");
        }

        return !string.IsNullOrEmpty(home) && Path.IsPathFullyQualified(home)
            ? Path.Combine(home, ".cache", "tensorlet")
            : Path.Combine(Path.GetTempPath(), "tensorlet-cache");
    }

    /// <summary>
    /// The archive or extracted folder found on disk (steps 1–3), or null when there is none.
    /// </summary>
    /// <exception cref="CorpusException">An explicit <see cref="NewsgroupsArchiveOptions.Path"/> does not exist or holds no corpus.</exception>
    public static string? FindLocal(NewsgroupsArchiveOptions? options = null)
    {
        options ??= new NewsgroupsArchiveOptions();
        if (options.Path is { } path)
        {
            return FindIn(path) ?? throw new CorpusException(
                path,
                File.Exists(path) || Directory.Exists(path)
                    ? $"{path} holds neither {FileName} nor the extracted folders {NewsgroupsReader.TrainFolder} and {NewsgroupsReader.TestFolder}."
                    : $"The 20 Newsgroups corpus path {path} does not exist.");
        }

        if (IsSet(options.DataDirectory) && FindIn(options.DataDirectory) is { } data)
        {
            return data;
        }

        var cached = Path.Combine(options.CacheDirectory, FileName);
        return File.Exists(cached) ? cached : null;
    }

    /// <summary>The archive or folder (steps 1–3), or a fresh download into the cache (step 4).</summary>
    /// <exception cref="CorpusException">Nothing found and downloading is off or failed (HTTP error, checksum mismatch).</exception>
    public static async Task<string> LocateAsync(
        NewsgroupsArchiveOptions? options = null, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new NewsgroupsArchiveOptions();
        if (FindLocal(options) is { } found)
        {
            return found;
        }

        var destination = Path.Combine(options.CacheDirectory, FileName);
        if (!options.AllowDownload)
        {
            string lookedIn = IsSet(options.DataDirectory)
                ? $"looked in {DataEnvironmentVariable}={options.DataDirectory} and {destination}"
                : $"looked in {destination}; {DataEnvironmentVariable} {(options.DataDirectory is null ? "unset" : "set but empty and so ignored")}";
            throw new CorpusException(destination, $"{FileName} was not found ({lookedIn}) and downloading is off.");
        }

        if (options.HttpClient is { } client)
        {
            await DownloadAsync(client, options.DownloadUri, destination, options.ExpectedSha256, progress, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var owned = new HttpClient();
            await DownloadAsync(owned, options.DownloadUri, destination, options.ExpectedSha256, progress, cancellationToken).ConfigureAwait(false);
        }

        return destination;
    }

    /// <summary>The blocking form of <see cref="LocateAsync"/>, for command-line apps.</summary>
    public static string Locate(NewsgroupsArchiveOptions? options = null, IProgress<DownloadProgress>? progress = null)
        => LocateAsync(options, progress).GetAwaiter().GetResult();

    /// <summary>
    /// Downloads <paramref name="uri"/> to <paramref name="destination"/> through <see cref="AtomicFile"/>: written to a
    /// hidden temporary file beside it, hashed on the way, and renamed over <paramref name="destination"/> only when its
    /// SHA-256 is <paramref name="expectedSha256"/>; otherwise the temporary file is deleted.
    /// </summary>
    /// <exception cref="CorpusException">The server answered with an error, the transfer failed, or the checksum differs.</exception>
    public static async Task DownloadAsync(
        HttpClient client, Uri uri, string destination, string expectedSha256,
        IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(expectedSha256);
        try
        {
            await AtomicFile.WriteAsync(destination, (target, token) => ReceiveAsync(client, uri, destination, expectedSha256, target, progress, token), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new CorpusException(destination, $"Downloading {uri} to {destination} failed: {e.Message}", e);
        }
    }

    // Copies the response to target, hashing it on the way; throws when the server answers with an error or the
    // SHA-256 differs, so that AtomicFile never renames a wrong archive into place.
    private static async Task ReceiveAsync(
        HttpClient client, Uri uri, string destination, string expectedSha256, Stream target, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new CorpusException(destination, $"Downloading {uri} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
        }

        long? total = response.Content.Headers.ContentLength;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
            try
            {
                long received = 0;
                progress?.Report(new DownloadProgress(0, total));
                int read;
                while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    received += read;
                    progress?.Report(new DownloadProgress(received, total));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new CorpusException(
                destination,
                $"The download of {uri} has SHA-256 {actual}, not the expected {expectedSha256.ToLowerInvariant()}; it was not saved to {destination}.");
        }
    }

    /// <summary>
    /// Whether <paramref name="dataDirectory"/> names a folder to look in: an empty or whitespace value (TENSORLET_DATA=)
    /// counts as unset, since as a path it would mean the current folder or a folder named by blanks, never a data folder.
    /// </summary>
    internal static bool IsSet([NotNullWhen(true)] string? dataDirectory) => !string.IsNullOrWhiteSpace(dataDirectory);

    // The archive inside a path: the path itself when a file; an extracted folder; or the archive in the folder.
    private static string? FindIn(string path)
    {
        if (File.Exists(path))
        {
            return path;
        }

        if (!Directory.Exists(path))
        {
            return null;
        }

        var archive = Path.Combine(path, FileName);
        if (File.Exists(archive))
        {
            return archive;
        }

        return Directory.Exists(Path.Combine(path, NewsgroupsReader.TrainFolder)) || Directory.Exists(Path.Combine(path, NewsgroupsReader.TestFolder))
            ? path
            : null;
    }
}
