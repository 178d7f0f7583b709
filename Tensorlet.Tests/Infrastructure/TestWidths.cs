using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>The CPU register widths the width-by-width kernel tests take by name.</summary>
internal static class TestWidths
{
    /// <summary>The width named, or the test ignored (with the reason) where this machine does not accelerate it.</summary>
    public static CpuVectorWidth Supported(string name)
    {
        var width = Enum.Parse<CpuVectorWidth>(name);
        if (!CpuKernelPlan.IsSupported(width))
        {
            Assert.Ignore($"This machine does not accelerate {width}.");
        }

        return width;
    }
}
