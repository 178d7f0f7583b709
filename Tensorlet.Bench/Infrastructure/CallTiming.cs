using System.Diagnostics;

namespace Tensorlet.Bench.Infrastructure;

/// <summary>
/// Times one operation as Tensorlet.Bench's <c>gemm</c> command and its libtorch counterpart (bench/libtorch-train-step,
/// which links this file) both do, so that their figures compare: each sample is a whole number of rounds through the
/// operand copies, about 0.2 s of work at 200 GFLOP/s, but at most about <see cref="MaxSampleSeconds"/> of wall time as
/// the untimed warm-up sample measures it; then the timed samples.
/// </summary>
/// <remarks>
/// The FLOP count sizes the samples of the step's real shapes, which run near the GEMM's rate. A call of a few hundred
/// FLOP runs at a tiny fraction of that rate (its cost is the call itself), so the FLOP count alone would ask for tens of
/// millions of calls per sample, minutes each; the bound keeps such a sample to about a second and changes nothing for a
/// shape whose sample takes less.
/// </remarks>
internal static class CallTiming
{
    /// <summary>The wall time a sample is held to, in seconds (a sample is never less than one round of the copies).</summary>
    public const double MaxSampleSeconds = 1.0;

    // The work one sample is sized for: 0.2 s at 200 GFLOP/s.
    private const double SampleFlop = 0.2 * 200e9;

    /// <summary>Milliseconds per call of each timed sample, fastest first.</summary>
    /// <param name="call">One call; it picks its own operand copy.</param>
    /// <param name="flopPerCall">The call's floating-point operations, which size the samples.</param>
    /// <param name="copies">How many operand copies the calls cycle through.</param>
    /// <param name="samples">Timed samples.</param>
    public static double[] MillisecondsPerCall(Action call, double flopPerCall, int copies, int samples = 7)
    {
        // Rounds of 0.2 s at 200 GFLOP/s; a whole number of them never overflows the call count.
        int rounds = WarmUp(call, copies, (int)Math.Clamp(Math.Ceiling(SampleFlop / flopPerCall / copies), 1, int.MaxValue / copies));
        int calls = rounds * copies;
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

    /// <summary>
    /// Runs the untimed sample, in batches of doubling size, and returns the rounds through the copies that a timed
    /// sample takes: <paramref name="flopRounds"/>, or fewer when that many would run longer than
    /// <see cref="MaxSampleSeconds"/> at the rate of the latest batch (the warmest, and the largest so far). It stops once
    /// it has run that many rounds, so it takes about as long as a timed sample.
    /// </summary>
    private static int WarmUp(Action call, int copies, int flopRounds)
    {
        int rounds = flopRounds, done = 0;
        for (long batch = 1; done < rounds; batch *= 2)
        {
            int run = (int)Math.Min(batch, rounds - done);
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < run * copies; i++)
            {
                call();
            }

            double secondsPerRound = Stopwatch.GetElapsedTime(start).TotalSeconds / run;
            done += run;
            rounds = (int)Math.Clamp(MaxSampleSeconds / secondsPerRound, 1, flopRounds);
        }

        return rounds;
    }
}
