using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Reference;
using Tensorlet.Tests.Infrastructure;
using static Tensorlet.Tests.Kernels.FusedKernelTestData;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The NLL loss rows on every device against the float64 reference. Every value is a copy, a negation or a zero, so the
/// results are exact: compared with a bound of 0.
/// </summary>
public sealed class NllLossKernelTests
{
    private static readonly (int Rows, int Classes)[] Sizes =
        [(1, 1), (1, 7), (1, 33), (7, 1), (7, 7), (7, 33), (33, 127), (3, 1000)];

    private static IEnumerable<TestCaseData> DevicesAndSizes() =>
        from device in TestDevices.All
        from size in Sizes
        select new TestCaseData(device, size.Rows, size.Classes).SetArgDisplayNames(device, $"N={size.Rows}", $"V={size.Classes}");

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void MatchesReference(string deviceName, int rows, int classes)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((rows * 10007) + classes);
        var input = Uniform(rng, rows * classes, 6);
        var targets = RandomTargets(rng, rows, classes);
        using var inputT = device.FromArray(input, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.Zeros(rows);
        using var dInputT = device.FromArray(Uniform(rng, rows * classes, 1), rows, classes);

        Ops.NllLoss(inputT, targetsT, lossesT, dInputT, 0.37f, null);

        var (losses, dInput) = Reference(rows, classes, input, targets, 0.37f);
        AssertClose(lossesT.ToArray(), losses, "losses", 0, 0);
        AssertClose(dInputT.ToArray(), dInput, "dInput (every stale value overwritten)", 0, 0);
        Assert.That(inputT.ToArray(), Is.EqualTo(input), "the input is not touched when dInput is another tensor");
    }

    [TestCaseSource(nameof(DevicesAndSizes))]
    public void InPlaceWritesTheGradientOverTheInput(string deviceName, int rows, int classes)
    {
        var device = TestDevices.Get(deviceName);
        var rng = new Random((rows * 10007) + classes + 1);
        var input = Uniform(rng, rows * classes, 6);
        var targets = RandomTargets(rng, rows, classes);
        using var inputT = device.FromArray(input, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.Zeros(rows);

        Ops.NllLoss(inputT, targetsT, lossesT, inputT, 1f / rows, null);

        var (losses, dInput) = Reference(rows, classes, input, targets, 1f / rows);
        AssertClose(lossesT.ToArray(), losses, "losses", 0, 0);
        AssertClose(inputT.ToArray(), dInput, "dInput (over the input)", 0, 0);
    }

    [TestCaseSource(typeof(FusedKernelTestData), nameof(DevicesAndIgnoreIndices))]
    public void IgnoredRowsGetALossAndAGradientOfZeroWhateverTheyHold(string deviceName, int ignore)
    {
        // Ignored rows holding −∞, NaN and +∞: their loss and gradient are written as 0, as PyTorch's, where a multiply
        // by 0 would give NaN. In place, over the input.
        var device = TestDevices.Get(deviceName);
        const int rows = IgnoredRows, classes = IgnoredClasses;
        var (input, targets) = IgnoredRowsOfNonFinites(ignore);
        using var inputT = device.FromArray(input, rows, classes);
        using var targetsT = device.IndexFromArray(targets, rows);
        using var lossesT = device.FromArray(Uniform(new Random(7), rows, 1), rows);

        Ops.NllLoss(inputT, targetsT, lossesT, inputT, 0.25f, ignore);

        var losses = new double[rows];
        var dInput = new double[input.Length];
        ReferenceNllLoss.Rows(rows, classes, Widen(input), targets, losses, dInput, 0.25f, ignore);
        AssertClose(lossesT.ToArray(), losses, "losses", 0, 0);
        AssertClose(inputT.ToArray(), dInput, "dInput (over the input)", 0, 0);
        Assert.That(losses.Where((_, r) => targets[r] == ignore), Is.All.EqualTo(0), "the reference's ignored rows");
    }

    [TestCase(9, 1)]
    [TestCase(9, 32)]
    [TestCase(9, 45)]
    [TestCase(5, 100)]
    public void TheGpuWarpShapeMatchesTheReferenceOnA32LaneCpuAccelerator(int rows, int classes)
    {
        // CUDA's 32-lane warps on the CPU accelerator (see the cross-entropy tests for why).
        using var context = Context.Create(builder => builder.CPU(new CPUDevice(32, 4, 1)).EnableAlgorithms());
        using var accelerator = context.CreateCPUAccelerator(0);
        var kernels = new IlgpuFusedKernels(accelerator);
        var rng = new Random((rows * 101) + classes);
        var input = Uniform(rng, rows * classes, 6);
        var targets = RandomTargets(rng, rows, classes);
        using var inputBuffer = accelerator.Allocate1D(input);
        using var targetsBuffer = accelerator.Allocate1D(targets);
        using var lossesBuffer = accelerator.Allocate1D<float>(rows);

        kernels.NllLoss(inputBuffer.View, targetsBuffer.View, lossesBuffer.View, inputBuffer.View, rows, classes, 0.5f);

        var (losses, dInput) = Reference(rows, classes, input, targets, 0.5f);
        AssertClose(lossesBuffer.GetAsArray1D(), losses, "losses", 0, 0);
        AssertClose(inputBuffer.GetAsArray1D(), dInput, "dInput (over the input)", 0, 0);
    }

    private static int[] RandomTargets(Random rng, int rows, int classes)
        => [.. Enumerable.Range(0, rows).Select(_ => rng.Next(classes))];

    private static (double[] Losses, double[] DInput) Reference(int rows, int classes, float[] input, int[] targets, float gradScale)
    {
        var losses = new double[rows];
        var dInput = new double[input.Length];
        ReferenceNllLoss.Rows(rows, classes, Widen(input), targets, losses, dInput, gradScale);
        return (losses, dInput);
    }
}
