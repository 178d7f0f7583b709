namespace Tensorlet.Models.Data;

/// <summary>How far a download has come, reported through <see cref="IProgress{T}"/> so an app can draw a bar.</summary>
/// <param name="BytesReceived">Bytes received so far.</param>
/// <param name="TotalBytes">The size announced by the server (Content-Length), when it announced one.</param>
public readonly record struct DownloadProgress(long BytesReceived, long? TotalBytes)
{
    /// <summary>The share done, in [0, 1], when the total is known.</summary>
    public double? Fraction => TotalBytes is > 0 ? Math.Min(1.0, (double)BytesReceived / TotalBytes.Value) : null;
}
