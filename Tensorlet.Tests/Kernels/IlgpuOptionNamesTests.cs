using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The command-line names of the ILGPU GEMM variants and recurrences (<c>train-step --gemm</c>, <c>--recurrence</c>): any
/// case, '-' between words, and nothing that <see cref="Enum.TryParse{TEnum}(string, bool, out TEnum)"/> would also accept
/// (numbers, flag lists).
/// </summary>
public sealed class IlgpuOptionNamesTests
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
        Assert.That(IlgpuOptionNames.GemmVariant(text).ToString(), Is.EqualTo(expected));
    }

    /// <summary>Every variant the enum holds round-trips through its kebab-case name, so a new variant needs no parser change.</summary>
    [Test]
    public void EveryVariantParsesFromItsKebabCaseName()
    {
        foreach (var variant in Enum.GetValues<IlgpuGemmVariant>())
        {
            string kebab = string.Concat(variant.ToString().Select((ch, i) => i > 0 && char.IsUpper(ch) ? "-" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
            Assert.That(IlgpuOptionNames.GemmVariant(kebab), Is.EqualTo(variant), kebab);
        }
    }

    /// <summary>The recurrences, by the names gpu-check and users type.</summary>
    [TestCase("step-by-step", "StepByStep")]
    [TestCase("stepbystep", "StepByStep")]
    [TestCase("fused-steps", "FusedSteps")]
    [TestCase("Fused-Steps", "FusedSteps")]
    [TestCase("fused-steps-half-rows", "FusedStepsHalfRows")]
    public void ParsesARecurrence(string text, string expected)
    {
        Assert.That(IlgpuOptionNames.Recurrence(text).ToString(), Is.EqualTo(expected));
    }

    /// <summary>A recurrence name is not a GEMM variant, and the other way round, each message naming what was expected.</summary>
    [Test]
    public void EachEnumTakesOnlyItsOwnNames()
    {
        var gemm = Assert.Throws<ArgumentException>(() => IlgpuOptionNames.GemmVariant("fused-steps"));
        Assert.That(gemm!.Message, Does.Contain("is not an ILGPU GEMM variant"));
        var recurrence = Assert.Throws<ArgumentException>(() => IlgpuOptionNames.Recurrence("tiled"));
        Assert.That(recurrence!.Message, Does.Contain("is not an ILGPU LSTM recurrence").And.Contain("StepByStep, FusedSteps"));
    }

    /// <summary>An unknown name is refused with a message that quotes it and lists every variant.</summary>
    [Test]
    public void RefusesAnUnknownNameAndListsTheVariants()
    {
        var ex = Assert.Throws<ArgumentException>(() => IlgpuOptionNames.GemmVariant("bogus"));
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
        Assert.Throws<ArgumentException>(() => IlgpuOptionNames.GemmVariant(text));
    }
}
