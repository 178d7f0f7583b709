using System.Globalization;
using System.Runtime.InteropServices;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// Whether the <c>cpu</c> device's large buffers go in transparent huge pages. On Linux, when THP is in <c>madvise</c> or
/// <c>always</c> mode and a huge page is at most 2 MiB, a buffer of half a huge page or more starts on a huge-page
/// boundary, is rounded up to whole huge pages and is advised <c>MADV_HUGEPAGE</c>. Such a buffer is a mapping of its own
/// (<c>mmap</c>), never memory the C allocator hands back: memory a freed buffer left behind may already sit in 4 KiB
/// pages, and no page fault would come to put it in huge pages. A training step streams through
/// buffers of tens of megabytes (an LSTM's saved gates, d(pre)); in 4 KiB pages every 4 KiB of them needs its own
/// translation, and under a hypervisor each miss in the TLB walks two sets of page tables. The cost is the rounding: a
/// buffer of 1 MiB takes 2 MiB, a larger one less than one huge page more. <see cref="Variable"/><c>=off</c> turns it off.
/// </summary>
/// <param name="PageBytes">The huge page size buffers are placed in, 0 when they are not.</param>
/// <param name="State">Why: the THP mode it relies on, or why there are none.</param>
internal sealed partial record CpuHugePages(long PageBytes, string State)
{
    /// <summary>The environment variable that turns huge pages <c>off</c> (or <c>on</c>, the default where available).</summary>
    public const string Variable = "TENSORLET_CPU_HUGE_PAGES";

    private static readonly Lazy<CpuHugePages> MachinePages = new(Detect);

    /// <summary>This process's setting (read once, at first use).</summary>
    /// <exception cref="ArgumentException"><see cref="Variable"/> is neither on nor off (every access throws it again).</exception>
    public static CpuHugePages Machine => MachinePages.Value;

    /// <summary>Whether buffers of <see cref="Threshold"/> bytes and more go in huge pages.</summary>
    public bool Enabled => PageBytes > 0;

    /// <summary>The smallest buffer placed in huge pages: half a huge page, so that rounding at most doubles it.</summary>
    public long Threshold => PageBytes / 2;

    /// <summary>One line for the device description: <c>huge pages 2 MiB (THP madvise)</c>.</summary>
    public string Describe() =>
        !Enabled ? $"no huge pages ({State})" : PageBytes >= 1 << 20 ? $"huge pages {PageBytes >> 20} MiB ({State})" : $"huge pages {PageBytes >> 10} KiB ({State})";

    /// <summary>The bytes <see cref="Allocate"/> reserves for a buffer of <paramref name="bytes"/>.</summary>
    public long AllocatedBytes(long bytes) =>
        Enabled && bytes >= Threshold ? (bytes + PageBytes - 1) / PageBytes * PageBytes : Math.Max(1, bytes);

    /// <summary>
    /// Native memory for <paramref name="bytes"/> (not cleared): 64-byte aligned, or a fresh mapping, huge-page aligned
    /// and advised, when the buffer is large enough. Free it with <see cref="Free"/>, giving the same size.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The memory could not be had.</exception>
    public unsafe void* Allocate(long bytes)
    {
        if (!Enabled || bytes < Threshold)
        {
            return NativeMemory.AlignedAlloc((nuint)Math.Max(1, bytes), 64);
        }

        // Map one huge page more than needed, then unmap what lies before the first huge-page boundary and after the
        // buffer, so the buffer starts on a boundary and no neighbouring mapping shares its huge pages.
        nuint allocated = (nuint)AllocatedBytes(bytes), page = (nuint)PageBytes;
        byte* mapped = (byte*)Mmap(null, allocated + page, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (mapped == MapFailed)
        {
            throw new OutOfMemoryException($"mmap of {allocated + page} bytes failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        nuint head = (page - ((nuint)mapped % page)) % page;
        byte* pointer = mapped + head;
        Unmap(mapped, head);
        Unmap(pointer + allocated, page - head);

        // Advice only: where the kernel has no huge page free it keeps 4 KiB ones, so the result is not checked.
        _ = Madvise(pointer, allocated, MadvHugePage);
        return pointer;
    }

    /// <summary>Frees memory from <see cref="Allocate"/> of <paramref name="bytes"/>.</summary>
    public unsafe void Free(void* pointer, long bytes)
    {
        if (!Enabled || bytes < Threshold)
        {
            NativeMemory.AlignedFree(pointer);
        }
        else
        {
            Unmap(pointer, (nuint)AllocatedBytes(bytes));
        }
    }

    private static unsafe void Unmap(void* address, nuint length)
    {
        // munmap fails only for a range that is not page aligned, which Allocate never makes.
        if (length > 0 && Munmap(address, length) != 0)
        {
            throw new InvalidOperationException($"munmap failed (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    /// <summary>
    /// The setting from <see cref="Variable"/> and Linux's THP files: <paramref name="enabled"/> is
    /// <c>/sys/kernel/mm/transparent_hugepage/enabled</c> (the mode in brackets: <c>always [madvise] never</c>),
    /// <paramref name="pageSize"/> its <c>hpage_pmd_size</c> in bytes; null where a file is missing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="variable"/> is neither on nor off.</exception>
    internal static CpuHugePages From(string? variable, bool isLinux, string? enabled, string? pageSize)
    {
        switch (variable?.Trim().ToLowerInvariant())
        {
            case null or "" or "on" or "1":
                break;
            case "off" or "0":
                return new(0, $"{Variable}=off");
            default:
                throw new ArgumentException($"{Variable}={variable} is not one of on, off.");
        }

        if (!isLinux)
        {
            return new(0, "not Linux");
        }

        int open = enabled?.IndexOf('[') ?? -1, close = enabled?.IndexOf(']') ?? -1;
        if (enabled is null || open < 0 || close <= open)
        {
            return new(0, "no THP");
        }

        string mode = enabled[(open + 1)..close];
        if (mode is not ("madvise" or "always"))
        {
            return new(0, $"THP {mode}");
        }

        // Above 2 MiB (512 MiB under 64 KiB base pages) the rounding would cost more memory than the TLB saves.
        if (!long.TryParse(pageSize?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long bytes) || bytes <= 4096 || bytes > (2 << 20) || (bytes & (bytes - 1)) != 0)
        {
            return new(0, $"THP page size {pageSize?.Trim() ?? "unknown"}");
        }

        return new(bytes, $"THP {mode}");
    }

    private static CpuHugePages Detect()
    {
        const string folder = "/sys/kernel/mm/transparent_hugepage";
        string? variable = Environment.GetEnvironmentVariable(Variable);
        return From(variable, OperatingSystem.IsLinux(), ReadLine(Path.Combine(folder, "enabled")), ReadLine(Path.Combine(folder, "hpage_pmd_size")));
    }

    private static string? ReadLine(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private const int MadvHugePage = 14;
    // Linux's values on every architecture .NET runs on (asm-generic's mman-common.h).
    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;
    private static readonly unsafe byte* MapFailed = (byte*)-1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static unsafe partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static unsafe partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static unsafe partial int Madvise(void* address, nuint length, int advice);
}
