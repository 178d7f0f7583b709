using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// The cpu device's default thread count, one per physical core (<see cref="CpuCores"/>): Linux CPU lists, and the
/// cores counted from sysfs topology folders that each test writes (hardware threads that share a core count once).
/// </summary>
public sealed class CpuCoresTests
{
    [TestCase("0", new[] { 0 })]
    [TestCase("0-3", new[] { 0, 1, 2, 3 })]
    [TestCase(" 0-1,4,6-7\n", new[] { 0, 1, 4, 6, 7 })]
    public void ParsesLinuxCpuLists(string text, int[] cpus)
    {
        Assert.That(CpuCores.ParseList(text), Is.EqualTo(cpus));
    }

    [TestCase("3-1")]
    [TestCase("a")]
    [TestCase("-2")]
    public void RejectsWhatIsNoCpuList(string text)
    {
        Assert.Throws<FormatException>(() => CpuCores.ParseList(text));
    }

    [Test]
    public void CountsHardwareThreadsOfOneCoreOnce()
    {
        // Four cores with two hardware threads each, numbered as Linux numbers them on x86: CPU n and n + 4 share core n.
        var folder = Topology(Enumerable.Range(0, 8).Select(cpu => (cpu, $"{cpu % 4},{(cpu % 4) + 4}")));
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(CpuCores.FromSysfs(folder, Enumerable.Range(0, 8)), Is.EqualTo(4), "the whole machine");
                Assert.That(CpuCores.FromSysfs(folder, [0, 4]), Is.EqualTo(1), "an affinity of one core's two threads");
                Assert.That(CpuCores.FromSysfs(folder, [0, 1, 5]), Is.EqualTo(2), "three CPUs on two cores");
                Assert.That(CpuCores.FromSysfs(folder, [0, 8]), Is.Null, "a CPU without topology");
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void CountsEveryCoreWithoutHardwareThreads()
    {
        var folder = Topology(Enumerable.Range(0, 3).Select(cpu => (cpu, $"{cpu}")));
        try
        {
            Assert.That(CpuCores.FromSysfs(folder, [0, 1, 2]), Is.EqualTo(3));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Topology(IEnumerable<(int Cpu, string Siblings)> cpus)
    {
        var folder = Path.Combine(Path.GetTempPath(), "tensorlet-cpu-topology", Guid.NewGuid().ToString("N"));
        foreach (var (cpu, siblings) in cpus)
        {
            var topology = Directory.CreateDirectory(Path.Combine(folder, $"cpu{cpu}", "topology"));
            File.WriteAllText(Path.Combine(topology.FullName, "thread_siblings_list"), siblings + "\n");
        }

        return folder;
    }
}
