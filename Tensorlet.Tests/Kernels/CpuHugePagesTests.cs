using System.Globalization;
using System.Runtime.InteropServices;
using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// CpuHugePages: the setting read from TENSORLET_CPU_HUGE_PAGES and Linux's THP files, the rounding it costs, and, on a
/// machine that allows them, that a large buffer really ends up in huge pages.
/// </summary>
public sealed unsafe class CpuHugePagesTests
{
    private const long MiB = 1 << 20;

    [TestCase(null, true, "always [madvise] never", "2097152", 2 * MiB, "huge pages 2 MiB (THP madvise)")]
    [TestCase("on", true, "[always] madvise never", "2097152\n", 2 * MiB, "huge pages 2 MiB (THP always)")]
    [TestCase("", true, "always madvise [never]", "2097152", 0L, "no huge pages (THP never)")]
    [TestCase("off", true, "always [madvise] never", "2097152", 0L, "no huge pages (TENSORLET_CPU_HUGE_PAGES=off)")]
    [TestCase(" OFF ", true, "always [madvise] never", "2097152", 0L, "no huge pages (TENSORLET_CPU_HUGE_PAGES=off)")]
    [TestCase(null, false, null, null, 0L, "no huge pages (not Linux)")]
    [TestCase(null, true, null, null, 0L, "no huge pages (no THP)")]
    [TestCase(null, true, "always [madvise] never", "536870912", 0L, "no huge pages (THP page size 536870912)")]
    [TestCase(null, true, "always [madvise] never", "524288", 512L << 10, "huge pages 512 KiB (THP madvise)")]
    [TestCase(null, true, "always [madvise] never", null, 0L, "no huge pages (THP page size unknown)")]
    public void TheSettingFollowsTheVariableAndTheThpMode(string? variable, bool isLinux, string? enabled, string? pageSize, long pageBytes, string description)
    {
        var pages = CpuHugePages.From(variable, isLinux, enabled, pageSize);
        Assert.That(pages.PageBytes, Is.EqualTo(pageBytes));
        Assert.That(pages.Describe(), Is.EqualTo(description));
    }

    [TestCase("yes")]
    [TestCase("2")]
    public void AValueThatIsNeitherOnNorOffIsRefused(string variable)
    {
        var e = Assert.Throws<ArgumentException>(() => CpuHugePages.From(variable, true, "always [madvise] never", "2097152"));
        Assert.That(e!.Message, Is.EqualTo($"TENSORLET_CPU_HUGE_PAGES={variable} is not one of on, off."));
    }

    [TestCase(0L, 1L)]
    [TestCase(MiB - 4, MiB - 4)]
    [TestCase(MiB, 2 * MiB)]
    [TestCase(2 * MiB, 2 * MiB)]
    [TestCase((2 * MiB) + 4, 4 * MiB)]
    [TestCase(40 * MiB, 40 * MiB)]
    public void BuffersOfHalfAHugePageAndMoreAreRoundedToWholeHugePages(long bytes, long allocated)
    {
        Assert.That(new CpuHugePages(2 * MiB, "THP madvise").AllocatedBytes(bytes), Is.EqualTo(allocated));
        Assert.That(new CpuHugePages(0, "off").AllocatedBytes(bytes), Is.EqualTo(Math.Max(1, bytes)));
    }

    [TestCase(3 * MiB, 2 * MiB)]
    [TestCase(MiB - 4, 64L)]
    public void ABufferStartsOnAHugePageWhenLargeEnoughAndIsUsable(long bytes, long alignment)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("madvise is Linux's; elsewhere the setting is always off.");
        }

        var pages = new CpuHugePages(2 * MiB, "THP madvise");
        byte* p = (byte*)pages.Allocate(bytes);
        try
        {
            Assert.That((long)p % alignment, Is.Zero);
            var span = new Span<byte>(p, checked((int)bytes));
            span.Fill(0x5A);
            Assert.That(span.IndexOfAnyExcept((byte)0x5A), Is.EqualTo(-1));
        }
        finally
        {
            pages.Free(p, bytes);
        }
    }

    [Test]
    public void OnThisMachineALargeBufferIsBackedByHugePages() => AssertInHugePages(CpuHugePages.Machine);

    [Test]
    public void ALargeBufferIsBackedByHugePagesEvenWhereTheAllocatorHoldsFreedMemoryInSmallPages()
    {
        // Leave the C allocator holding freed memory that was touched in 4 KiB pages. Freeing a block it mapped raises
        // its mmap threshold to that block's size, so a smaller block then comes from its heap and stays there freed.
        var pages = CpuHugePages.Machine;
        nuint bytes = (nuint)(4 * Math.Max(pages.PageBytes, 4096));
        NativeMemory.Free(NativeMemory.Alloc(2 * bytes));
        byte* block = (byte*)NativeMemory.Alloc(bytes + (bytes / 2));
        new Span<byte>(block, checked((int)(bytes + (bytes / 2)))).Fill(1);
        NativeMemory.Free(block);

        AssertInHugePages(pages);
    }

    private static void AssertInHugePages(CpuHugePages pages)
    {
        if (!pages.Enabled)
        {
            Assert.Ignore($"This machine places no buffer in huge pages: {pages.Describe()}.");
        }

        long bytes = 4 * pages.PageBytes;
        long fallbacksBefore = ThpFaultFallbacks();
        byte* p = (byte*)pages.Allocate(bytes);
        try
        {
            Assert.That(AnyResident(p, bytes), Is.False, "a large buffer is a fresh mapping, with no page in memory yet");
            new Span<byte>(p, checked((int)bytes)).Fill(1);
            if (ThpFaultFallbacks() > fallbacksBefore)
            {
                Assert.Ignore("The kernel had no huge page free and fell back to 4 KiB pages (thp_fault_fallback grew).");
            }

            Assert.That(AnonHugePagesKiB((nint)p), Is.GreaterThanOrEqualTo(pages.PageBytes / 1024), "AnonHugePages of the buffer's mapping");
        }
        finally
        {
            pages.Free(p, bytes);
        }
    }

    // Whether any 4 KiB page of [p, p + bytes) is in memory (mincore(2)).
    private static bool AnyResident(byte* p, long bytes)
    {
        const long Page = 4096;
        long start = (long)p & ~(Page - 1);
        long length = (long)p + bytes - start;
        var resident = new byte[(length + Page - 1) / Page];
        fixed (byte* vector = resident)
        {
            Assert.That(Mincore((void*)start, (nuint)length, vector), Is.Zero, "mincore");
        }

        return resident.Any(b => (b & 1) != 0);
    }

    [DllImport("libc", EntryPoint = "mincore")]
    private static extern int Mincore(void* address, nuint length, byte* vector);

    // The AnonHugePages line of the /proc/self/smaps entry whose address range holds address.
    private static long AnonHugePagesKiB(nint address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            if (dash > 0 && space > dash && long.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long start)
                && long.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out long end))
            {
                inside = start <= address && address < end;
            }
            else if (inside && line.StartsWith("AnonHugePages:", StringComparison.Ordinal))
            {
                return long.Parse(line["AnonHugePages:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new AssertionException($"No mapping in /proc/self/smaps holds 0x{address:x}.");
    }

    private static long ThpFaultFallbacks()
    {
        var line = File.ReadLines("/proc/vmstat").FirstOrDefault(l => l.StartsWith("thp_fault_fallback ", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line["thp_fault_fallback ".Length..], CultureInfo.InvariantCulture);
    }
}
