using NUnit.Framework;
using Tensorlet.Nn;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// How a class-id loss checks its targets: a target that may be the ignore index is read back (a wait for the device)
/// at most once per Forward, and not again while the buffer is unchanged; any write to the buffer (a copy, a copy into
/// part of it, a kernel's) has it checked again, so a bad target written over a checked buffer is still refused.
/// </summary>
public sealed class ClassIdLossTargetCheckTests
{
    [TestCaseSource(typeof(SoftmaxModuleTests), nameof(SoftmaxModuleTests.DevicesAndClassIdLosses))]
    public void TargetsThatMayHoldTheIgnoreIndexAreReadBackOncePerForward(string deviceName, string lossName)
    {
        var device = TestDevices.Get(deviceName);
        using var loss = Create(lossName);
        using var x = device.FromArray([.. Enumerable.Range(0, 12).Select(i => (i % 5) * 0.5f)], 2, 2, 3);
        using var targets = device.IndexFromArray([0, -100, 2, 1], 2, 2);

        Assert.That(ReadBacks(device, () => loss.ForwardRows(x, targets)), Is.EqualTo(1), "the loss's check, its count and the op's check share one read");
        Assert.That(loss.CountedRows, Is.EqualTo(3));
        Assert.That(ReadBacks(device, () => loss.ForwardRows(x, targets)), Is.Zero, "the unchanged buffer is not read again");
        Assert.That(ReadBacks(device, () => loss.Forward(x, targets)), Is.EqualTo(1), "Forward reads only the losses back");

        targets.CopyFrom([1, 1, -100, -100]);
        Assert.That(ReadBacks(device, () => loss.ForwardRows(x, targets)), Is.EqualTo(1), "new values are read once");
        Assert.That(loss.CountedRows, Is.EqualTo(2));

        targets.CopyFrom([1, 1, 0, 2]);
        Assert.That(ReadBacks(device, () => loss.ForwardRows(x, targets)), Is.Zero, "targets that cannot hold the ignore index are not read");
        Assert.That(loss.CountedRows, Is.EqualTo(4));
    }

    [TestCaseSource(typeof(SoftmaxModuleTests), nameof(SoftmaxModuleTests.DevicesAndClassIdLosses))]
    public void AWriteAfterACheckThatPassedHasTheTargetsCheckedAgain(string deviceName, string lossName)
    {
        var device = TestDevices.Get(deviceName);
        using var loss = Create(lossName);
        using var x = device.FromArray([.. Enumerable.Range(0, 12).Select(i => (i % 5) * 0.5f)], 4, 3);
        using var targets = device.IndexFromArray([0, -100, 2, 1], 4);
        loss.ForwardRows(x, targets);

        // A whole copy.
        targets.CopyFrom([0, -100, 3, 1]);
        AssertRefused(() => loss.ForwardRows(x, targets), "Target 3 of row 2");

        // A copy into part of the buffer, through a view.
        targets.CopyFrom([0, -100, 2, 1]);
        loss.ForwardRows(x, targets);
        using (var tail = targets.Slice(2, 2))
        {
            tail.CopyFrom([1, -7]);
        }

        AssertRefused(() => loss.ForwardRows(x, targets), "Target -7 of row 3");

        // A kernel's write: the argmax of rows of 5 columns may be 3 or 4, outside 3 classes.
        targets.CopyFrom([0, -100, 2, 1]);
        loss.ForwardRows(x, targets);
        using (var wide = device.FromArray([0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f, 0f, 1f, 0f, 0f, 0f, 0f, 0f, 1f, 0f, 0f, 0f], 4, 5))
        {
            Ops.ArgmaxRows(wide, targets);
        }

        AssertRefused(() => loss.ForwardRows(x, targets), "Target 4 of row 0");

        // The same unchanged buffer against fewer classes is a check of its own.
        targets.CopyFrom([0, -100, 2, 1]);
        loss.ForwardRows(x, targets);
        using var narrow = device.FromArray([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], 4, 2);
        AssertRefused(() => loss.ForwardRows(narrow, targets), "Target 2 of row 2");
    }

    private static ClassIdLoss Create(string lossName) => lossName == "nll" ? new NllLoss() : new CrossEntropyLoss();

    private static long ReadBacks(Device device, Action action)
    {
        long before = device.HostCopyCount;
        action();
        return device.HostCopyCount - before;
    }

    private static void AssertRefused(TestDelegate forward, string fragment)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(forward);
        Assert.That(ex!.Message, Does.Contain(fragment));
    }
}
