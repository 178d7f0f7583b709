using NUnit.Framework;
using Tensorlet.Dev.IlgpuKernels.Gemm;

namespace Tensorlet.Tests.Workbench;

/// <summary>The fallback from ILGPU.Algorithms' newest cuBLAS name to CUDA 13's (loading itself needs a GPU machine).</summary>
public sealed class CuBlasLibraryResolverTests
{
    [Test]
    public void TheNewestKnownNameFallsBackToCuda13()
    {
        Assert.That(CuBlasLibraryResolver.Candidates("libcublas.so.12"), Is.EqualTo(new[] { "libcublas.so.12", "libcublas.so.13" }));
    }

    [TestCase("libcublas.so.11")]
    [TestCase("libcublas.so.10")]
    [TestCase("libcublasLt.so.12")]
    [TestCase("libnvrtc.so.12")]
    public void OtherNamesAreLeftAlone(string name)
    {
        Assert.That(CuBlasLibraryResolver.Candidates(name), Is.EqualTo(new[] { name }));
    }
}
