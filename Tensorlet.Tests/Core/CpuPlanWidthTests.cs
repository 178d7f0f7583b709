using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Core;

/// <summary>
/// A <c>cpu</c> device runs its kernels at its plan's width, not at the widest the CPU has. A sum whose order follows the
/// register width shows which width ran: through a device made with a narrower plan, each result is, bit for bit, the
/// kernel's at that width, on data for which that differs from the kernel's at the widest width the machine runs.
/// </summary>
public sealed class CpuPlanWidthTests
{
    private const int Rows = 37;
    private const int Columns = 1000;

    [TestCase("Vector256")]
    [TestCase("Vector128")]
    [TestCase("Scalar")]
    public void TheDeviceRunsItsReductionsAtItsPlansWidth(string name)
    {
        var width = TestWidths.Supported(name);
        var widest = CpuKernelPlan.Supported().First();
        if (widest == width)
        {
            Assert.Ignore($"{width} is the widest width this machine runs, so nothing narrower can be told from it.");
        }

        using var device = Device.CreateCpu(2, CpuKernelPlan.For(width));
        var random = new Random(7);
        var values = new float[Rows * Columns];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 20) - 10);
        }

        int[] classes = [.. Enumerable.Range(0, Rows).Select(r => r % Columns)];
        using var x = device.FromArray(values, Rows, Columns);
        using var ids = device.IndexFromArray(classes, Rows);
        using var losses = device.Zeros(Rows);
        using var gradient = device.Zeros(Rows, Columns);

        // Σx², which gradient clipping takes.
        Assert.That(Ops.SumOfSquares(x), Is.EqualTo(CpuReduction.SumOfSquares(values, 2, width)).And.Not.EqualTo(CpuReduction.SumOfSquares(values, 2, widest)), "Σx²");

        // The fused softmax cross-entropy's per-row losses.
        Ops.SoftmaxCrossEntropy(x, ids, losses, gradient, 1f);
        Assert.That(losses.ToArray(), Is.EqualTo(CrossEntropy(values, classes, width)).And.Not.EqualTo(CrossEntropy(values, classes, widest)), "cross-entropy");
    }

    private static float[] CrossEntropy(float[] logits, int[] targets, CpuVectorWidth width)
    {
        var losses = new float[Rows];
        CpuSoftmax.CrossEntropy(logits, targets, losses, new float[logits.Length], Rows, Columns, 1f, 2, width);
        return losses;
    }
}
