using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Dev.IlgpuKernels;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Dev.IlgpuKernels.Recurrence;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Workbench;

/// <summary>
/// The workbench's LSTM recurrence variants (dev/IlgpuKernels: the library's step-by-step loop, and the fused steps with one
/// launch per forward step, a split-k GEMM and one launch per backward step) against the float64 reference recurrence,
/// forward and backward, as the workbench checks them before timing: on each ILGPU device, and on a CPU accelerator built
/// with the GPU's 256-thread groups and 2 multiprocessors, so the backward GEMM is split in two.
/// </summary>
public sealed class FusedStepsRecurrenceTests
{
    /// <summary>Each ILGPU device × each variant; variants travel as names, the enum is internal.</summary>
    public static IEnumerable<TestCaseData> DevicesAndVariants() =>
        from device in TestDevices.Ilgpu
        from variant in Enum.GetValues<RecurrenceVariant>()
        select new TestCaseData(device, variant.ToString()).SetArgDisplayNames(device, variant.ToString());

    [TestCaseSource(nameof(DevicesAndVariants))]
    public void MatchesTheFloat64Reference(string deviceName, string variant)
    {
        var accelerator = ((IlgpuBackend)TestDevices.Get(deviceName).Backend).Accelerator;
        using var gemm = new GemmVariants(accelerator);
        Assert.That(Checks.Recurrence(accelerator, new RecurrenceRunner(gemm), Enum.Parse<RecurrenceVariant>(variant)), Is.Null);
    }

    /// <summary>
    /// The GPU tile: 64 batch rows (32 with half rows) and 16 units per group, so B = 70 and H = 40 leave partial groups both
    /// ways, and the backward GEMM (k = 4H = 160, two groups) is split in two slices.
    /// </summary>
    [TestCase("FusedSteps")]
    [TestCase("FusedStepsHalfRows")]
    public void TheGpuTileShapeMatchesTheFloat64ReferenceOnA256ThreadCpuAccelerator(string variant)
    {
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 8, 2)).EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        using var gemm = new GemmVariants(accelerator);
        var plan = GemmSplitKPlan.For(70, 40, 160, gemm.Library.TiledBlock, gemm.Library.TileDepth, accelerator.NumMultiprocessors);
        Assert.That((gemm.Library.UsesGpuTile, plan.Slices), Is.EqualTo((true, 2)), "the GPU tile, with the backward GEMM split in two");
        Assert.That(Checks.Recurrence(accelerator, new RecurrenceRunner(gemm), Enum.Parse<RecurrenceVariant>(variant)), Is.Null);
    }
}
