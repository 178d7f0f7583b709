using NUnit.Framework;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>
/// The devices every kernel test runs on. Devices are created once per test run and shared,
/// because creating an ILGPU context and compiling kernels is slow. <c>cuda</c> is always listed,
/// and its tests report as skipped (not passed) on machines without a GPU.
/// </summary>
public static class TestDevices
{
    private static readonly Dictionary<string, Device> Cache = [];
    private static readonly object Gate = new();

    /// <summary>Every device name, for [TestCaseSource].</summary>
    public static IEnumerable<string> All => ["cpu", "ilgpu-cpu", "cuda"];

    /// <summary>The ILGPU devices, for tests of the ILGPU kernels alone.</summary>
    public static IEnumerable<string> Ilgpu => ["ilgpu-cpu", "cuda"];

    /// <summary>Returns the shared device, or marks the test as skipped when it is not present.</summary>
    public static Device Get(string name)
    {
        if (name == "cuda" && Backends.Ilgpu.CudaProbe.Get().Problem is { } problem)
        {
            Assert.Ignore($"No CUDA GPU usable here ({problem}): the cuda variant of this test is skipped.");
        }

        lock (Gate)
        {
            if (!Cache.TryGetValue(name, out var device))
            {
                device = Device.Create(name);
                Cache[name] = device;
            }

            return device;
        }
    }

    internal static void DisposeAll()
    {
        lock (Gate)
        {
            foreach (var device in Cache.Values)
            {
                device.Dispose();
            }

            Cache.Clear();
        }
    }
}

/// <summary>Disposes the shared devices after the whole run.</summary>
[SetUpFixture]
public sealed class TestDevicesTeardown
{
    /// <summary>Runs once after every test.</summary>
    [OneTimeTearDown]
    public void DisposeDevices() => TestDevices.DisposeAll();
}
