namespace Tensorlet.Models.Data;

/// <summary>Where <see cref="NewsgroupsArchive"/> looks for the corpus, and how it downloads it when it is nowhere.</summary>
public sealed class NewsgroupsArchiveOptions
{
    /// <summary>An explicit path: the archive, a folder holding it, or an extracted folder (holding 20news-bydate-train/test). Looked at first; when given it must exist.</summary>
    public string? Path { get; init; }

    /// <summary>A data folder holding 20news-bydate.tar.gz (or the extracted folders). Defaults to the <c>TENSORLET_DATA</c> environment variable. Null, empty or whitespace: none.</summary>
    public string? DataDirectory { get; init; } = Environment.GetEnvironmentVariable(NewsgroupsArchive.DataEnvironmentVariable);

    /// <summary>The cache folder that holds downloads. Defaults to <see cref="NewsgroupsArchive.DefaultCacheDirectory"/>.</summary>
    public string CacheDirectory { get; init; } = NewsgroupsArchive.DefaultCacheDirectory();

    /// <summary>Whether to download the archive into <see cref="CacheDirectory"/> when it is found nowhere. Default true.</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>Where to download from: scikit-learn's URL by default.</summary>
    public Uri DownloadUri { get; init; } = NewsgroupsArchive.DownloadUri;

    /// <summary>The SHA-256 (hex) a download must have: scikit-learn's by default. Files found on disk are not checked.</summary>
    public string ExpectedSha256 { get; init; } = NewsgroupsArchive.Sha256;

    /// <summary>The client used to download; null creates one. Tests pass one over a fake <see cref="HttpMessageHandler"/>.</summary>
    public HttpClient? HttpClient { get; init; }
}
