using System.Globalization;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// The process's resident memory from /proc/self/status (Linux): the current resident set (VmRSS) and its
/// high-water mark (VmHWM), which <see cref="ResetPeak"/> can bring down to the current size so that the
/// peak covers only what follows (the training steps, not the corpus loading).
/// </summary>
internal static class ProcessMemory
{
    /// <summary>VmHWM in MiB, or the runtime's PeakWorkingSet64 where /proc is missing.</summary>
    public static double PeakMegabytes() => Read("VmHWM:") ?? Environment.WorkingSet / 1048576.0;

    /// <summary>VmRSS in MiB.</summary>
    public static double CurrentMegabytes() => Read("VmRSS:") ?? Environment.WorkingSet / 1048576.0;

    /// <summary>Resets VmHWM to VmRSS (writes 5 to /proc/self/clear_refs); returns false where that is not possible.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>The 1-minute load average, or NaN where /proc/loadavg is missing.</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    private static double? Read(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    var kb = line[key.Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) / 1024.0;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }
}
