using System.Globalization;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The data caches one core sees: L1d and L2 per core, L3 as the whole shared cache. Read once at start-up from
/// Linux's sysfs cache description (cpu0), else from CPUID (leaf 4 on Intel, 0x8000001D on AMD), else
/// <see cref="Fallback"/>. The GEMM blocking is derived from these (<see cref="GemmGeometry.For"/>).
/// </summary>
/// <param name="L1dBytes">The level-1 data cache of one core.</param>
/// <param name="L1dWays">Its associativity (ways per set).</param>
/// <param name="L2Bytes">The level-2 cache of one core (unified).</param>
/// <param name="L3Bytes">The last-level cache (shared), 0 when there is none.</param>
/// <param name="Source">Where the sizes came from: <c>sysfs</c>, <c>cpuid</c> or <c>fallback</c>.</param>
internal sealed record CpuCaches(long L1dBytes, int L1dWays, long L2Bytes, long L3Bytes, string Source)
{
    /// <summary>
    /// Used where nothing can be read: a small modern core (32 KiB 8-way L1d, 512 KiB L2, 8 MiB L3). Erring small
    /// costs a few percent of GEMM speed; erring large makes the blocks spill out of cache.
    /// </summary>
    public static CpuCaches Fallback { get; } = new(32 << 10, 8, 512 << 10, 8 << 20, "fallback");

    /// <summary>This machine's caches (read once).</summary>
    public static CpuCaches Machine { get; } = Detect();

    /// <summary>One line: <c>L1d 32 KiB, L2 1 MiB, L3 32 MiB (sysfs)</c>.</summary>
    public string Describe() => $"L1d {Size(L1dBytes)}, L2 {Size(L2Bytes)}, L3 {Size(L3Bytes)} ({Source})";

    private static CpuCaches Detect()
    {
        try
        {
            return FromSysfs("/sys/devices/system/cpu/cpu0/cache") ?? FromCpuid() ?? Fallback;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return FromCpuid() ?? Fallback;
        }
    }

    /// <summary>Parses sysfs's index*/ folders (level, type, size such as "32K", ways_of_associativity); null when absent or incomplete.</summary>
    internal static CpuCaches? FromSysfs(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return null;
        }

        long l1 = 0, l2 = 0, l3 = 0;
        int ways = 0;
        foreach (var index in Directory.EnumerateDirectories(folder, "index*"))
        {
            string? level = ReadLine(Path.Combine(index, "level")), type = ReadLine(Path.Combine(index, "type")), size = ReadLine(Path.Combine(index, "size"));
            if (level is null || type is null || size is null || type == "Instruction")
            {
                continue;
            }

            long bytes = ParseSize(size);
            switch (level)
            {
                case "1":
                    l1 = bytes;
                    ways = int.TryParse(ReadLine(Path.Combine(index, "ways_of_associativity")), CultureInfo.InvariantCulture, out int w) ? w : 0;
                    break;
                case "2":
                    l2 = bytes;
                    break;
                case "3":
                    l3 = bytes;
                    break;
            }
        }

        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, ways > 0 ? ways : 8, l2, l3, "sysfs") : null;
    }

    /// <summary>"32K", "1024K", "32M" or plain bytes; anything else (an empty file, as some ARM kernels leave) is a <see cref="FormatException"/>.</summary>
    internal static long ParseSize(string text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            throw new FormatException("An empty cache size.");
        }

        long unit = text[^1] switch { 'K' or 'k' => 1L << 10, 'M' or 'm' => 1L << 20, 'G' or 'g' => 1L << 30, _ => 1 };
        string digits = unit == 1 ? text : text[..^1];
        return long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) * unit;
    }

    /// <summary>The deterministic cache parameters leaf (4 on Intel, 0x8000001D on AMD): one sub-leaf per cache until type 0.</summary>
    private static CpuCaches? FromCpuid()
    {
        if (!X86Base.IsSupported)
        {
            return null;
        }

        var (maxExtended, _, _, _) = X86Base.CpuId(unchecked((int)0x80000000), 0);
        var (maxBasic, _, _, _) = X86Base.CpuId(0, 0);
        var (_, vendorB, _, _) = X86Base.CpuId(0, 0);
        bool amd = vendorB == 0x68747541; // "Auth"(enticAMD)
        int leaf = amd ? unchecked((int)0x8000001D) : 4;
        if (amd ? (uint)maxExtended < 0x8000001D : maxBasic < 4)
        {
            return null;
        }

        long l1 = 0, l2 = 0, l3 = 0;
        int ways1 = 0;
        for (int sub = 0; sub < 16; sub++)
        {
            var (eax, ebx, ecx, _) = X86Base.CpuId(leaf, sub);
            int type = eax & 0x1F;
            if (type == 0)
            {
                break;
            }

            if (type == 2)
            {
                continue; // instruction cache
            }

            int level = (eax >> 5) & 0x7;
            int ways = ((ebx >> 22) & 0x3FF) + 1, partitions = ((ebx >> 12) & 0x3FF) + 1, line = (ebx & 0xFFF) + 1;
            long bytes = (long)ways * partitions * line * ((long)(uint)ecx + 1);
            switch (level)
            {
                case 1:
                    l1 = bytes;
                    ways1 = ways;
                    break;
                case 2:
                    l2 = bytes;
                    break;
                case 3:
                    l3 = bytes;
                    break;
            }
        }

        return l1 > 0 && l2 > 0 ? new CpuCaches(l1, ways1, l2, l3, "cpuid") : null;
    }

    private static string? ReadLine(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    private static string Size(long bytes) => bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? $"{bytes >> 20} MiB" : $"{bytes >> 10} KiB";
}
