using NUnit.Framework;
using Tensorlet.Dev.IlgpuKernels.Gemm;

namespace Tensorlet.Tests.Workbench;

/// <summary>When and how <see cref="GemmSplitKPlan"/> cuts k for the split-k ILGPU GEMM.</summary>
public sealed class GemmSplitKPlanTests
{
    /// <summary>An H200's 132 multiprocessors and the GPU tile: 64×64 blocks of C, k staged 16 deep.</summary>
    private const int H200Multiprocessors = 132;
    private static readonly (int Rows, int Columns) GpuBlock = (64, 64);

    /// <summary>
    /// The LSTM's per-step GEMMs at batch 100 get enough slices for about two groups per multiprocessor, none shallower
    /// than 64; the GEMMs over all 9,900 rows already fill the GPU and stay whole.
    /// </summary>
    [TestCase(100, 512, 2048, 16, 128, TestName = "H=512 backward dh = d(pre)·W_hh: 16 groups → 16 slices of 128")]
    [TestCase(100, 2048, 512, 5, 112, TestName = "H=512 forward h·W_hhᵀ: 64 groups → 5 slices of 112")]
    [TestCase(100, 256, 1024, 16, 64, TestName = "H=256 backward: 8 groups → 16 slices of 64 (capped by the minimum depth)")]
    [TestCase(32, 512, 9900, 33, 304, TestName = "H=512 output head dW: 8 groups → 33 slices")]
    [TestCase(9900, 2048, 512, 1, 512, TestName = "H=512 input projection: 4,960 groups → whole")]
    [TestCase(9900, 512, 2048, 1, 2048, TestName = "H=512 input gradient: 1,240 groups → whole")]
    public void LstmShapesOnAnH200(int m, int n, int k, int slices, int sliceDepth)
    {
        Assert.That(GemmSplitKPlan.For(m, n, k, GpuBlock, 16, H200Multiprocessors), Is.EqualTo(new GemmSplitKPlan(slices, sliceDepth)));
    }

    /// <summary>Over a sweep of shapes and accelerators: the slices cover k exactly once, none is empty, and a split is tile-aligned and at least 64 deep.</summary>
    [Test]
    public void EverySliceIsNonEmptyAndTheyCoverK()
    {
        foreach (int multiprocessors in new[] { 1, 2, 16, 132 })
        {
            foreach (int m in new[] { 1, 100, 9900 })
            {
                foreach (int n in new[] { 32, 512, 2048 })
                {
                    foreach (int k in new[] { 0, 1, 15, 16, 17, 63, 64, 129, 512, 2048, 9900 })
                    {
                        var plan = GemmSplitKPlan.For(m, n, k, GpuBlock, 16, multiprocessors);
                        string where = $"{m}x{n}x{k} on {multiprocessors} multiprocessors: {plan}";
                        Assert.That(plan.Slices, Is.GreaterThanOrEqualTo(1), where);
                        if (plan.Slices == 1)
                        {
                            Assert.That(plan.SliceDepth, Is.EqualTo(k), where);
                            continue;
                        }

                        Assert.That(plan.SliceDepth % 16, Is.Zero, where);
                        Assert.That(plan.SliceDepth, Is.GreaterThanOrEqualTo(GemmSplitKPlan.MinSliceDepth), where);
                        Assert.That((long)plan.Slices * plan.SliceDepth, Is.GreaterThanOrEqualTo(k), where);
                        Assert.That((long)(plan.Slices - 1) * plan.SliceDepth, Is.LessThan(k), where);
                    }
                }
            }
        }
    }

    /// <summary>A launch with at least two groups per multiprocessor is never split.</summary>
    [TestCase(2, 1, 2048)]
    [TestCase(264, 132, 4096)]
    public void ALaunchThatFillsTheAcceleratorStaysWhole(int groups, int multiprocessors, int k)
    {
        Assert.That(GemmSplitKPlan.For(64 * groups, 64, k, GpuBlock, 16, multiprocessors).Slices, Is.EqualTo(1));
        Assert.That(GemmSplitKPlan.For(64 * (groups - 1), 64, k, GpuBlock, 16, multiprocessors).Slices, Is.GreaterThan(1));
    }

    /// <summary>Split rounds each slice up to the tile depth and then recounts, so asking for too many slices gives fewer, full ones.</summary>
    [TestCase(37, 3, 8, 3, 16)]
    [TestCase(37, 64, 8, 5, 8)]
    [TestCase(35, 3, 16, 3, 16)]
    [TestCase(50, 2, 16, 2, 32)]
    [TestCase(16, 4, 16, 1, 16)]
    [TestCase(100, 1, 16, 1, 100)]
    public void SplitRoundsToTheTileDepth(int k, int slices, int tileDepth, int expectedSlices, int expectedDepth)
    {
        Assert.That(GemmSplitKPlan.Split(k, slices, tileDepth), Is.EqualTo(new GemmSplitKPlan(expectedSlices, expectedDepth)));
    }
}
