using System.Net;
using System.Security.Cryptography;
using NUnit.Framework;
using Tensorlet.Models.Data;

namespace Tensorlet.Tests.Data;

/// <summary>Finding and downloading the archive, with a fake HTTP handler (no network in tests).</summary>
public sealed class NewsgroupsArchiveTests
{
    private static readonly byte[] Payload = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
    private static readonly string PayloadSha = Convert.ToHexStringLower(SHA256.HashData(Payload));

    [Test]
    public void LooksAtTheExplicitPathThenTheDataFolderThenTheCache()
    {
        using var temp = new SmallArchive();
        var data = Directory.CreateDirectory(Path.Combine(temp.Directory, "data")).FullName;
        var cache = Directory.CreateDirectory(Path.Combine(temp.Directory, "cache")).FullName;
        var explicitArchive = temp.WriteBytes("mine.tar.gz", [1]);
        var dataArchive = Path.Combine(data, NewsgroupsArchive.FileName);
        var cacheArchive = Path.Combine(cache, NewsgroupsArchive.FileName);

        var options = new NewsgroupsArchiveOptions { DataDirectory = data, CacheDirectory = cache, AllowDownload = false };
        Assert.That(NewsgroupsArchive.FindLocal(options), Is.Null);
        var ex = Assert.ThrowsAsync<CorpusException>(() => NewsgroupsArchive.LocateAsync(options));
        Assert.That(ex!.Message, Does.Contain(cacheArchive).And.Contain("downloading is off"));

        File.WriteAllBytes(cacheArchive, [1]);
        Assert.That(NewsgroupsArchive.FindLocal(options), Is.EqualTo(cacheArchive));
        File.WriteAllBytes(dataArchive, [1]);
        Assert.That(NewsgroupsArchive.FindLocal(options), Is.EqualTo(dataArchive));
        Assert.That(NewsgroupsArchive.FindLocal(new NewsgroupsArchiveOptions { Path = explicitArchive, DataDirectory = data, CacheDirectory = cache }), Is.EqualTo(explicitArchive));
        Assert.That(NewsgroupsArchive.FindLocal(new NewsgroupsArchiveOptions { Path = data, CacheDirectory = cache }), Is.EqualTo(dataArchive));
    }

    [TestCase(null, "TENSORLET_DATA unset")]
    [TestCase("", "TENSORLET_DATA set but empty and so ignored")]
    [TestCase("  ", "TENSORLET_DATA set but empty and so ignored")]
    public void AnEmptyDataFolderCountsAsUnsetAndTheMessageSaysSo(string? dataDirectory, string said)
    {
        using var temp = new SmallArchive();
        var cache = Path.Combine(temp.Directory, "cache");
        var options = new NewsgroupsArchiveOptions { DataDirectory = dataDirectory, CacheDirectory = cache, AllowDownload = false };

        Assert.That(NewsgroupsArchive.FindLocal(options), Is.Null);
        var ex = Assert.ThrowsAsync<CorpusException>(() => NewsgroupsArchive.LocateAsync(options));

        var cached = Path.Combine(cache, NewsgroupsArchive.FileName);
        Assert.That(ex!.Message, Is.EqualTo($"{NewsgroupsArchive.FileName} was not found (looked in {cached}; {said}) and downloading is off."));
    }

    [Test]
    public void AnExtractedFolderIsFoundToo()
    {
        using var temp = new SmallArchive();
        var folder = temp.WriteFolder("extracted", [("20news-bydate-train/g/1", "x")]);
        Assert.That(NewsgroupsArchive.FindLocal(new NewsgroupsArchiveOptions { Path = folder }), Is.EqualTo(folder));
    }

    [Test]
    public void AnExplicitPathThatDoesNotExistIsAnError()
    {
        var path = Path.Combine(Path.GetTempPath(), "missing-" + Guid.NewGuid().ToString("N"));
        var ex = Assert.Throws<CorpusException>(() => NewsgroupsArchive.FindLocal(new NewsgroupsArchiveOptions { Path = path }));
        Assert.That(ex!.Message, Does.Contain(path).And.Contain("does not exist"));
    }

    [Test]
    public void DefaultCacheFollowsXdg()
    {
        var cache = NewsgroupsArchive.DefaultCacheDirectory();
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        Assert.That(cache, Is.EqualTo(string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "tensorlet")
            : Path.Combine(xdg, "tensorlet")));
    }

    [Test]
    public async Task ADownloadWithTheRightChecksumLandsInTheCacheWithProgress()
    {
        using var temp = new SmallArchive();
        var cache = Path.Combine(temp.Directory, "cache");
        var handler = new FakeHandler(Payload);
        var reports = new List<DownloadProgress>();
        var options = new NewsgroupsArchiveOptions
        {
            DataDirectory = null,
            CacheDirectory = cache,
            HttpClient = new HttpClient(handler),
            ExpectedSha256 = PayloadSha.ToUpperInvariant(),
        };

        var path = await NewsgroupsArchive.LocateAsync(options, new SyncProgress(reports));

        Assert.That(path, Is.EqualTo(Path.Combine(cache, NewsgroupsArchive.FileName)));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(Payload));
        Assert.That(handler.RequestedUri, Is.EqualTo(NewsgroupsArchive.DownloadUri));
        Assert.That(Directory.GetFiles(cache), Has.Length.EqualTo(1), "no temporary file is left behind");
        Assert.That(reports[0], Is.EqualTo(new DownloadProgress(0, Payload.Length)));
        Assert.That(reports[^1], Is.EqualTo(new DownloadProgress(Payload.Length, Payload.Length)));
        Assert.That(reports[^1].Fraction, Is.EqualTo(1.0));
        Assert.That(reports.Select(r => r.BytesReceived), Is.Ordered.Ascending);
        Assert.That(reports, Has.Count.GreaterThan(2));

        // A second call finds the cached copy without asking the network.
        handler.RequestedUri = null;
        Assert.That(await NewsgroupsArchive.LocateAsync(options), Is.EqualTo(path));
        Assert.That(handler.RequestedUri, Is.Null);
    }

    [Test]
    public void ADownloadWithTheWrongChecksumIsNotSavedAndSaysWhy()
    {
        using var temp = new SmallArchive();
        var cache = Path.Combine(temp.Directory, "cache");
        var options = new NewsgroupsArchiveOptions { DataDirectory = null, CacheDirectory = cache, HttpClient = new HttpClient(new FakeHandler(Payload)) };

        var ex = Assert.ThrowsAsync<CorpusException>(() => NewsgroupsArchive.LocateAsync(options));

        Assert.That(ex!.Message, Does.Contain(PayloadSha).And.Contain(NewsgroupsArchive.Sha256).And.Contain(Path.Combine(cache, NewsgroupsArchive.FileName)));
        Assert.That(Directory.GetFiles(cache), Is.Empty, "neither the archive nor a temporary file is left");
    }

    [Test]
    public void AFailedDownloadKeepsAnExistingFileAndLeavesNoTemporary()
    {
        using var temp = new SmallArchive();
        var destination = temp.WriteBytes("target.tar.gz", [42]);

        var ex = Assert.ThrowsAsync<CorpusException>(() => NewsgroupsArchive.DownloadAsync(
            new HttpClient(new FakeHandler(Payload, failAfter: 100_000)), NewsgroupsArchive.DownloadUri, destination, PayloadSha));

        Assert.That(ex!.Message, Does.Contain(destination));
        Assert.That(File.ReadAllBytes(destination), Is.EqualTo(new byte[] { 42 }));
        Assert.That(Directory.GetFiles(temp.Directory), Has.Length.EqualTo(1));
    }

    [Test]
    public void AnHttpErrorIsACorpusError()
    {
        using var temp = new SmallArchive();
        var destination = Path.Combine(temp.Directory, "target.tar.gz");

        var ex = Assert.ThrowsAsync<CorpusException>(() => NewsgroupsArchive.DownloadAsync(
            new HttpClient(new FakeHandler(null)), NewsgroupsArchive.DownloadUri, destination, PayloadSha));

        Assert.That(ex!.Message, Does.Contain("404"));
        Assert.That(File.Exists(destination), Is.False);
    }

    // Serves a payload in small chunks (or 404 for null), optionally failing part way.
    private sealed class FakeHandler(byte[]? payload, int failAfter = int.MaxValue) : HttpMessageHandler
    {
        public Uri? RequestedUri { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            RequestedUri = request.RequestUri;
            if (payload is null)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
            }

            var content = new StreamContent(new ChunkedStream(payload, failAfter));
            content.Headers.ContentLength = payload.Length;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }

    private sealed class ChunkedStream(byte[] payload, int failAfter) : Stream
    {
        private int position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => payload.Length;

        public override long Position { get => position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (position >= failAfter)
            {
                throw new IOException("connection reset (fake)");
            }

            int n = Math.Min(Math.Min(buffer.Length, 32_768), payload.Length - position);
            payload.AsSpan(position, n).CopyTo(buffer);
            position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // Progress<T> posts to the thread pool; this one records synchronously so the test sees every report.
    private sealed class SyncProgress(List<DownloadProgress> reports) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => reports.Add(value);
    }
}
