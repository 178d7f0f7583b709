using NUnit.Framework;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The contract both class-id loss kernels (NLL and the fused softmax + cross-entropy) keep for a target outside
/// [0, V): the ops throw naming the row and the value before anything is written; the cpu kernel, called directly,
/// throws too; an ILGPU kernel cannot throw, so it writes NaN into that row's loss and gradient and leaves the
/// other rows right.
/// </summary>
public sealed class ClassIdLossTargetTests
{
    /// <summary>The loss kernel under test.</summary>
    public enum Kernel
    {
        Nll,
        CrossEntropy,
    }

    private static readonly Kernel[] Kernels = [Kernel.Nll, Kernel.CrossEntropy];

    private static IEnumerable<TestCaseData> KernelsDevicesAndBadTargets() =>
        from kernel in Kernels
        from device in TestDevices.All
        from bad in new[] { -1, 3 }
        select new TestCaseData(kernel, device, bad).SetArgDisplayNames($"{kernel}", device, $"target={bad}");

    private static IEnumerable<TestCaseData> KernelsAndIlgpuDevices() =>
        from kernel in Kernels
        from device in TestDevices.Ilgpu
        select new TestCaseData(kernel, device).SetArgDisplayNames($"{kernel}", device);

    [TestCaseSource(nameof(KernelsDevicesAndBadTargets))]
    public void ATargetOutsideTheClassesThrowsNamingRowAndValueAndWritesNothing(Kernel kernel, string deviceName, int bad)
    {
        // V = 3, so -1 and 3 are the nearest targets outside [0, V).
        var device = TestDevices.Get(deviceName);
        var rng = new Random(bad + 5);
        var input = Uniform(rng, 9, 2);
        var lossesBefore = Uniform(rng, 3, 1);
        using var inputT = device.FromArray(input, 3, 3);
        using var targetsT = device.IndexFromArray([0, bad, 2], 3);
        using var lossesT = device.FromArray(lossesBefore, 3);

        // In place, as the losses call it: the input is also the gradient's output.
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RunOps(kernel, inputT, targetsT, lossesT, inputT));

        Assert.That(ex!.Message, Is.EqualTo($"Target {bad} of row 1 is outside the 3 classes [0, 3). (Parameter 'targets')"), "one line names the value, its row and the classes");
        Assert.That(lossesT.ToArray(), Is.EqualTo(lossesBefore), "the losses are untouched");
        Assert.That(inputT.ToArray(), Is.EqualTo(input), "the input (and gradient) are untouched");
    }

    [TestCaseSource(nameof(Kernels))]
    public void CpuKernelRejectsABadTargetItself(Kernel kernel)
    {
        // The kernel-level contract, below the ops' check: called directly, the cpu kernel throws before writing.
        var device = TestDevices.Get("cpu");
        using var inputT = device.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        using var targetsT = device.IndexFromArray([0, 3], 2);
        using var lossesT = device.Zeros(2);
        using var dInputT = device.Zeros(2, 3);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => RunBackend(kernel, inputT, targetsT, lossesT, dInputT));

        Assert.That(ex!.Message, Does.Contain("Target 3 of row 1"));
        Assert.That(dInputT.ToArray(), Is.All.Zero, "nothing is written when a target is bad");
    }

    [TestCaseSource(nameof(KernelsAndIlgpuDevices))]
    public void IlgpuKernelWritesNaNForATargetOutsideTheClassesAndLeavesOtherRowsRight(Kernel kernel, string deviceName)
    {
        // Below the ops' check, a kernel cannot throw, and must not index with the bad target: the row's loss and gradient become NaN.
        var device = TestDevices.Get(deviceName);
        float[] input = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        using var inputT = device.FromArray(input, 3, 3);
        using var targetsT = device.IndexFromArray([2, 3, -1], 3);
        using var lossesT = device.Zeros(3);
        using var dInputT = device.Zeros(3, 3);

        RunBackend(kernel, inputT, targetsT, lossesT, dInputT);

        var losses = lossesT.ToArray();
        var dInput = dInputT.ToArray();
        var expectedLoss = new double[1];
        var expectedDInput = new double[3];
        if (kernel == Kernel.Nll)
        {
            ReferenceNllLoss.Rows(1, 3, Widen(input[..3]), [2], expectedLoss, expectedDInput, 1.0);
        }
        else
        {
            ReferenceSoftmax.CrossEntropy(1, 3, Widen(input[..3]), [2], expectedLoss, expectedDInput, 1.0);
        }

        AssertClose(losses[..1], expectedLoss, "row 0 loss");
        AssertClose(dInput[..3], expectedDInput, "row 0 gradient");
        Assert.That(losses[1..], Is.All.NaN);
        Assert.That(dInput[3..], Is.All.NaN);
    }

    private static void RunOps(Kernel kernel, Tensor input, IndexTensor targets, Tensor losses, Tensor dInput)
    {
        if (kernel == Kernel.Nll)
        {
            Ops.NllLoss(input, targets, losses, dInput, 1f, null);
        }
        else
        {
            Ops.SoftmaxCrossEntropy(input, targets, losses, dInput, 1f);
        }
    }

    private static void RunBackend(Kernel kernel, Tensor input, IndexTensor targets, Tensor losses, Tensor dInput)
    {
        if (kernel == Kernel.Nll)
        {
            input.Device.Backend.NllLoss(input, targets, losses, dInput, 1f, null);
        }
        else
        {
            input.Device.Backend.SoftmaxCrossEntropy(input, targets, losses, dInput, 1f, null);
        }
    }
}
