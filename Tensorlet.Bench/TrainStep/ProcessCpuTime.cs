using System.Runtime.InteropServices;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// CPU time consumed by the whole process (all threads), with nanosecond resolution, from
/// clock_gettime(CLOCK_PROCESS_CPUTIME_ID) on Linux. On a machine shared with other work the wall time of a
/// step stretches with the load, but its CPU time does not: at one thread it estimates the step's time on an
/// idle core. (Process.TotalProcessorTime ticks in 10 ms steps here, too coarse for one kernel.)
/// </summary>
internal static partial class ProcessCpuTime
{
    private const int ClockProcessCpuTimeId = 2;

    /// <summary>Seconds of CPU time used so far, or NaN where the clock is not available.</summary>
    public static double Seconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return double.NaN;
        }

        return ClockSeconds(ClockProcessCpuTimeId);
    }

    /// <summary>Seconds on the clock <paramref name="clockId"/> (clock_gettime), or NaN where it cannot be read.</summary>
    internal static double ClockSeconds(int clockId)
        => ClockGetTime(clockId, out var ts) == 0 ? ts.Seconds + (ts.Nanoseconds * 1e-9) : double.NaN;

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
