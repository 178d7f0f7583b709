using NUnit.Framework;
using Tensorlet.Backends;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Core;

/// <summary>The seam for tools that watch the kernels: <see cref="Device.InterceptKernels"/> and <see cref="KernelBackendDecorator{TMark}"/>.</summary>
public sealed class KernelInterceptionTests
{
    [TestCaseSource(typeof(TestDevices), nameof(TestDevices.All))]
    public void ADecoratorSeesEveryKernelUntilItsScopeEndsAndResultsAreUnchanged(string deviceName)
    {
        // A device of its own: a decorator on a shared one would see other tests' kernels.
        if (deviceName == "cuda" && !Device.IsCudaAvailable)
        {
            Assert.Ignore("No CUDA GPU on this machine: the cuda variant of this test is skipped.");
        }

        using var device = Device.Create(deviceName);
        using var a = device.FromArray([1f, 2f, 3f, 4f], 2, 2);
        using var c = device.Zeros(2, 2);
        KernelCallRecorder? counter = null;
        using (device.InterceptKernels(inner => counter = new KernelCallRecorder(inner)))
        {
            Assert.Throws<InvalidOperationException>(() => device.InterceptKernels(inner => inner), "one decorator at a time");
            Ops.Fill(c, 1f);
            Ops.Gemm(a, false, a, false, c, 1f, 1f);
            Ops.Scale(c, 2f);
            Assert.That(c.ToArray(), Is.EqualTo(new[] { 16f, 22f, 32f, 46f }));
        }

        Assert.That(counter!.Calls, Is.EqualTo(new[] { "Fill", "Gemm", "Scale" }));
        Ops.Scale(c, 0.5f);
        Assert.That(counter.Calls, Has.Count.EqualTo(3), "the device's own backend again once the scope ends");
        Assert.That(c.ToArray(), Is.EqualTo(new[] { 8f, 11f, 16f, 23f }));
    }
}
