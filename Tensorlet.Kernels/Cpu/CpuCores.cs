using System.Globalization;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// How many physical cores this process may run on: the CPU kernels' default thread count, as PyTorch and ONNX Runtime
/// default to physical cores. Two hardware threads of one core share its FMA units and its L1 and L2, and the GEMM's
/// blocking gives one thread a core's caches (<see cref="GemmGeometry.For"/>), so a second thread per core only makes
/// the two evict each other's blocks. Read once from Linux's sysfs topology: the distinct cores among the CPUs the
/// process's affinity allows, and never more than <see cref="Environment.ProcessorCount"/> (which honours a
/// container's CPU quota). Elsewhere, or where the topology cannot be read, the processor count.
/// </summary>
internal static class CpuCores
{
    /// <summary>This process's cores (read once).</summary>
    public static int Machine { get; } = Detect();

    private static int Detect()
    {
        try
        {
            string? allowed = File.Exists("/proc/self/status")
                ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))
                : null;
            var cpus = allowed is null ? null : ParseList(allowed["Cpus_allowed_list:".Length..]);
            int? cores = cpus is null ? null : FromSysfs("/sys/devices/system/cpu", cpus);
            return Math.Clamp(cores ?? Environment.ProcessorCount, 1, Environment.ProcessorCount);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return Environment.ProcessorCount;
        }
    }

    /// <summary>
    /// The distinct cores among <paramref name="cpus"/>, each core named by its CPUs' <c>topology/thread_siblings_list</c>
    /// under <paramref name="cpuFolder"/>; null when a CPU's topology is missing.
    /// </summary>
    internal static int? FromSysfs(string cpuFolder, IEnumerable<int> cpus)
    {
        var cores = new HashSet<string>(StringComparer.Ordinal);
        foreach (int cpu in cpus)
        {
            string path = Path.Combine(cpuFolder, $"cpu{cpu}", "topology", "thread_siblings_list");
            if (!File.Exists(path))
            {
                return null;
            }

            cores.Add(File.ReadAllText(path).Trim());
        }

        return cores.Count > 0 ? cores.Count : null;
    }

    /// <summary>A Linux CPU list such as <c>0-3,8,10-11</c>; a <see cref="FormatException"/> for anything else.</summary>
    internal static List<int> ParseList(string text)
    {
        var cpus = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            int first = int.Parse(dash < 0 ? part : part[..dash], NumberStyles.None, CultureInfo.InvariantCulture);
            int last = dash < 0 ? first : int.Parse(part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
            if (last < first)
            {
                throw new FormatException($"The CPU range {part} runs backwards.");
            }

            for (int cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }

        return cpus;
    }
}
