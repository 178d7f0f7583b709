using System.Text.RegularExpressions;
using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary>Messages and defaults that used to be wrong: the cache path, the data folder, the ilgpu-cpu memory.</summary>
public sealed class LeftoverMessageTests
{
    [TestCase(null, "/nonexistent/home", "/nonexistent/home/.cache/tensorlet")]
    [TestCase("", "/nonexistent/home", "/nonexistent/home/.cache/tensorlet")]
    [TestCase("relative/cache", "/home/u", "/home/u/.cache/tensorlet")]
    [TestCase("/var/cache", "/home/u", "/var/cache/tensorlet")]
    public void TheCacheFolderFollowsXdgThenHome(string? xdg, string home, string expected)
    {
        Assert.That(NewsgroupsArchive.CacheDirectoryFor(xdg, home), Is.EqualTo(expected));
    }

    [TestCase(null)]
    [TestCase("")]
    public void WithoutAHomeTheCacheFolderIsStillAbsolute(string? home)
    {
        string cache = NewsgroupsArchive.CacheDirectoryFor(null, home);

        Assert.That(Path.IsPathFullyQualified(cache), Is.True, cache);
        Assert.That(cache, Does.StartWith(Path.GetTempPath()));
    }

    [Test]
    public void AnEmptyDataFolderIsNamedAsSuchNotAsUnset()
    {
        var empty = AppHarness.TempFolder();

        string message = CorpusData.NotFound(new NewsgroupsArchiveOptions { DataDirectory = empty, CacheDirectory = "/nonexistent/cache" });

        Assert.That(message, Does.Contain($"TENSORLET_DATA={empty} holds neither"));
        Assert.That(message, Does.Not.Contain("unset"));
        Assert.That(CorpusData.NotFound(new NewsgroupsArchiveOptions { DataDirectory = null }), Does.Contain("TENSORLET_DATA unset"));
        Directory.Delete(empty);
    }

    [TestCase("")]
    [TestCase(" \t")]
    public void ABlankDataFolderVariableIsNamedAsSetButEmptyAndIgnored(string blank)
    {
        string message = CorpusData.NotFound(new NewsgroupsArchiveOptions { DataDirectory = blank, CacheDirectory = "/nonexistent/cache" });

        Assert.That(message, Is.EqualTo("The 20 Newsgroups corpus was not found (no --data, TENSORLET_DATA set but empty and so ignored, nothing in /nonexistent/cache)."));
    }

    [Test]
    public void TheIlgpuCpuDeviceReportsNoImpossibleMemorySize()
    {
        using var device = Device.Create("ilgpu-cpu");

        var mib = Regex.Match(device.Description, @"(\d+) MiB");
        Assert.That(device.Description, Does.Contain("host memory"), device.Description);
        Assert.That(mib.Success, Is.False, $"ILGPU's CPU accelerator has no memory size of its own: {device.Description}");
    }
}
