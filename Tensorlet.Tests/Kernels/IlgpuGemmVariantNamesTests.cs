using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The command-line names of the ILGPU GEMM variants (<c>train-step --gemm</c>): any case, '-' between words, and
/// nothing that <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/> would also accept (numbers, flag lists).
/// </summary>
public sealed class IlgpuGemmVariantNamesTests
{
    /// <summary>Spellings a user types, with the variant each means (written out, not derived from the enum's names).</summary>
    [TestCase("naive", "Naive")]
    [TestCase("tiled", "Tiled")]
    [TestCase("TILED", "Tiled")]
    [TestCase("Tiled", "Tiled")]
    [TestCase("tiled-large", "TiledLarge")]
    [TestCase("Tiled-Large", "TiledLarge")]
    [TestCase("tiledlarge", "TiledLarge")]
    [TestCase("TiledLarge", "TiledLarge")]
    [TestCase("cublas", "CuBlas")]
    [TestCase("cu-blas", "CuBlas")]
    [TestCase("CUBLAS", "CuBlas")]
    public void ParsesAName(string text, string expected)
    {
        Assert.That(IlgpuGemmVariantNames.Parse(text).ToString(), Is.EqualTo(expected));
    }

    /// <summary>Every variant the enum holds round-trips through its kebab-case name, so a new variant needs no parser change.</summary>
    [Test]
    public void EveryVariantParsesFromItsKebabCaseName()
    {
        foreach (var variant in Enum.GetValues<IlgpuGemmVariant>())
        {
            string kebab = string.Concat(variant.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? "-" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
            Assert.That(IlgpuGemmVariantNames.Parse(kebab), Is.EqualTo(variant), kebab);
        }
    }

    /// <summary>An unknown name is refused with a message that quotes it and lists every variant.</summary>
    [Test]
    public void RefusesAnUnknownNameAndListsTheVariants()
    {
        var ex = Assert.Throws<ArgumentException>(() => IlgpuGemmVariantNames.Parse("bogus"));
        Assert.That(ex!.Message, Does.Contain("'bogus'"));
        foreach (string name in Enum.GetNames<IlgpuGemmVariant>())
        {
            Assert.That(ex.Message, Does.Contain(name));
        }
    }

    /// <summary>Numbers and flag lists parse with Enum.TryParse (and pass Enum.IsDefined) but name no variant.</summary>
    [TestCase("0")]
    [TestCase("1")]
    [TestCase("-1")]
    [TestCase("99")]
    [TestCase("Tiled, Naive")]
    [TestCase("Tiled,Naive")]
    [TestCase("")]
    [TestCase("-")]
    [TestCase(" tiled")]
    public void RefusesWhatIsNotAName(string text)
    {
        Assert.Throws<ArgumentException>(() => IlgpuGemmVariantNames.Parse(text));
    }
}
