using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tensorlet.CommandLine;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench;

/// <summary>
/// <c>peak [--threads T] [--samples S]</c>: the fp32 FMA peak as the machine runs it now, in about a second: the loop of
/// <see cref="FmaPeakBenchmarks"/> on T threads, timed S times. The mean is the figure, as BenchmarkDotNet's: it counts
/// the time the host takes a core away, which the training step loses too; the maximum is the hardware's rate. A virtual
/// machine's speed drifts over minutes, so bench/vs-libtorch.sh runs this beside every training round. Prints a summary
/// line, then one JSON object.
/// </summary>
internal static class PeakCommand
{
    // Loops per thread in one timed sample: about 0.15 s at 4 GHz with one 512-bit FMA per cycle.
    private const int LoopsPerSample = 24;

    /// <summary>The <c>peak</c> command.</summary>
    public static Command Command()
    {
        var threads = OptionParsing.Number("--threads", "CPU threads (0: all cores; at most the logical CPUs)", 0, new NumberRange<int>(0, 4_096));
        var samples = OptionParsing.Number("--samples", "Timed samples; their mean is the peak", 7, new NumberRange<int>(1, 1_000));
        var command = new Command("peak", "Measure the fp32 FMA peak of this machine now") { threads, samples };
        command.SetAction(r => Run(r.GetValue(threads), r.GetValue(samples)));
        return command;
    }

    private static int Run(int threads, int samples)
    {
        // More threads than the team has would run some loops one after another and still be labelled as parallel.
        threads = Math.Min(threads == 0 ? CpuCores.Machine : threads, CpuThreadTeam.MaxThreads);
        var sums = new float[threads];
        FmaPeakBenchmarks.RunOnThreads(sums, LoopsPerSample);
        if (FmaPeakBenchmarks.WrongLoop(sums) is { } wrong)
        {
            Console.Error.WriteLine($"peak: {wrong}");
            return 1;
        }

        double flop = FmaPeakBenchmarks.FlopPerThread * LoopsPerSample * threads;
        var seconds = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            long start = Stopwatch.GetTimestamp();
            FmaPeakBenchmarks.RunOnThreads(sums, LoopsPerSample);
            seconds[s] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        // The mean rate is the total work over the total time, not the mean of the rates.
        double mean = samples / seconds.Sum() * flop / 1e9;
        var gflops = seconds.Select(t => flop / t / 1e9).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fp32 FMA peak, {threads} threads, {FmaPeakBenchmarks.Lanes} lanes: mean {mean:F1} GFLOP/s over {samples} samples (min {gflops[0]:F1}, median {gflops[samples / 2]:F1}, max {gflops[^1]:F1})"));
        var report = new Dictionary<string, object>
        {
            ["threads"] = threads,
            ["lanes"] = FmaPeakBenchmarks.Lanes,
            ["samples"] = samples,
            ["gflops"] = Math.Round(mean, 2),
            ["gflops_min"] = Math.Round(gflops[0], 2),
            ["gflops_median"] = Math.Round(gflops[samples / 2], 2),
            ["gflops_max"] = Math.Round(gflops[^1], 2),
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }
}
