using System.Globalization;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// This process's CPU time as the sum of its threads' own CPU clocks, which is exact over windows as short as one kernel
/// call. Linux's process clock (<see cref="ProcessCpuTime"/>) adds another thread's running time only when that thread is
/// next ticked or switched out, so over a window shorter than a scheduler tick it misses most of the other threads' time:
/// a GEMM on 2 threads read about 1 CPU ms per ms of wall time, and the rest turned up later under another kernel. A
/// thread's own clock (clock_gettime on the clock id of its thread id), read from any thread, counts up to the read.
/// <para>
/// The threads are those alive at the last <see cref="Refresh"/>; a thread that has ended keeps its last reading, and one
/// started since is not counted until the next refresh. <see cref="Seconds"/> allocates nothing. NaN off Linux.
/// </para>
/// </summary>
internal sealed class ThreadCpuClocks
{
    private int[] clockIds = [];
    private double[] lastSeconds = [];

    /// <summary>Takes the list of the process's threads again (/proc/self/task).</summary>
    public void Refresh()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self/task"))
        {
            clockIds = [];
            lastSeconds = [];
            return;
        }

        var ids = new List<int>();
        foreach (string path in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
            {
                // The kernel's per-thread CPU clock id (CPUCLOCK_SCHED | CPUCLOCK_PERTHREAD_MASK), as glibc's pthread_getcpuclockid builds it.
                ids.Add((~tid << 3) | 6);
            }
        }

        clockIds = [.. ids];
        lastSeconds = new double[clockIds.Length];
        Seconds();
    }

    /// <summary>CPU seconds of the listed threads so far; NaN where there is no list.</summary>
    public double Seconds()
    {
        if (clockIds.Length == 0)
        {
            return double.NaN;
        }

        double sum = 0;
        for (int i = 0; i < clockIds.Length; i++)
        {
            double seconds = ProcessCpuTime.ClockSeconds(clockIds[i]);
            if (!double.IsNaN(seconds))
            {
                lastSeconds[i] = seconds;
            }

            sum += lastSeconds[i];
        }

        return sum;
    }
}
