using System.Diagnostics;

namespace Tensorlet.Bench.Infrastructure;

/// <summary>
/// Times one operation as Tensorlet.Bench's <c>gemm</c> command and its libtorch counterpart (bench/libtorch-train-step,
/// which links this file) both do, so that their figures compare: each sample is a whole number of rounds through the
/// operand copies, about 0.2 s of work at 200 GFLOP/s; one untimed sample, then the timed ones.
/// </summary>
internal static class CallTiming
{
    /// <summary>Milliseconds per call of each timed sample, fastest first.</summary>
    /// <param name="call">One call; it picks its own operand copy.</param>
    /// <param name="flopPerCall">The call's floating-point operations, which size the samples.</param>
    /// <param name="copies">How many operand copies the calls cycle through.</param>
    /// <param name="samples">Timed samples.</param>
    public static double[] MillisecondsPerCall(Action call, double flopPerCall, int copies, int samples = 7)
    {
        int calls = Math.Max(copies, (int)Math.Ceiling(0.2 * 200e9 / flopPerCall / copies) * copies);
        for (int i = 0; i < calls; i++)
        {
            call();
        }

        var ms = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
            {
                call();
            }

            ms[s] = Stopwatch.GetElapsedTime(start).TotalMilliseconds / calls;
        }

        Array.Sort(ms);
        return ms;
    }
}
