using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench;

/// <summary>
/// The machine's float32 FMA peak as it runs now: a loop of fused multiply-adds on registers only, with enough
/// independent accumulators to keep both FMA ports busy through their latency. A virtual machine's clock moves
/// from one hour to the next, so the GEMM's GFLOP/s mean most beside a peak measured in the same run:
/// <c>dotnet run -c Release --project Tensorlet.Bench -- --filter '*CpuGemmBenchmarks.Packed*' '*FmaPeak*' --job short</c>.
/// The threads are the kernels' own team, whose workers spin between loops: on Parallel.For, a thread-pool worker
/// woken from sleep for every 7 ms call started late often enough to read the two-thread peak 3% low (224 GFLOP/s
/// where two threads sustain 232 on the AMD EPYC), and now and then ran both halves on one thread.
/// </summary>
[Config(typeof(GflopsConfig))]
public class FmaPeakBenchmarks
{
    // 12 chains of 4-cycle FMAs cover 2 ports × 4 cycles of latency, so the loop is bound by throughput; with the two
    // constants they fit AVX2's 16 registers (16 chains spill there and measured a third slower).
    private const int Accumulators = 12;
    private const int IterationsPerThread = 1 << 21;

    /// <summary>Floating-point operations of one thread's loop: 2 per lane per FMA.</summary>
    public static double FlopPerThread => 2.0 * Lanes * Accumulators * (double)IterationsPerThread;

    // Each thread's mean accumulator, checked in setup.
    private float[] sums = [];

    /// <summary>Threads, each running the loop on its own core.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Lanes per vector: 16 with AVX-512, else 8.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    /// <summary>Runs the loop once and checks that its accumulators converged where the recurrence says.</summary>
    [GlobalSetup]
    public void Setup()
    {
        sums = new float[Threads];
        Fma();
        if (WrongLoop(sums) is { } wrong)
        {
            throw new InvalidOperationException(wrong);
        }
    }

    /// <summary>Each thread runs <c>IterationsPerThread</c> × 12 vector FMAs.</summary>
    [Benchmark]
    public void Fma() => RunOnThreads(sums, 1);

    /// <summary>
    /// Runs the loop <paramref name="loops"/> times on each of <c>sums.Length</c> threads of the kernels' team, and
    /// leaves each thread's mean accumulator in <paramref name="sums"/>.
    /// </summary>
    internal static void RunOnThreads(float[] sums, int loops) => CpuParallel.ForItems(sums.Length, sums.Length, new Loops(sums, loops));

    /// <summary>
    /// Null when every thread's accumulators reached 1, else why the loop must not be timed: acc ← acc·a + b with
    /// a = 1 − 2⁻¹⁰, b = 2⁻¹⁰ converges to 1 from 0, so a loop the JIT dropped or cut short leaves them near 0.
    /// </summary>
    internal static string? WrongLoop(float[] sums) => sums.All(s => Math.Abs(s - 1f) < 1e-3f)
        ? null
        : $"the FMA loop ended at {string.Join(", ", sums)}, not 1: not timing a wrong loop.";

    // One thread's loop at the machine's widest vector; returns its mean accumulator.
    private static float Run() => Vector512.IsHardwareAccelerated
        ? Run<Vector512<float>, FloatLanes512>()
        : Run<Vector256<float>, FloatLanes256>();

    /// <summary>The loop, once for every width (the JIT specialises it per lanes struct); returns the mean accumulator.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run<TVector, TLanes>()
        where TVector : struct
        where TLanes : struct, IFloatLanes<TVector>
    {
        var a = TLanes.Create(1f - (1f / 1024));
        var b = TLanes.Create(1f / 1024);
        TVector s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default;
        TVector s6 = default, s7 = default, s8 = default, s9 = default, s10 = default, s11 = default;
        for (int i = 0; i < IterationsPerThread; i++)
        {
            s0 = TLanes.MultiplyAdd(s0, a, b);
            s1 = TLanes.MultiplyAdd(s1, a, b);
            s2 = TLanes.MultiplyAdd(s2, a, b);
            s3 = TLanes.MultiplyAdd(s3, a, b);
            s4 = TLanes.MultiplyAdd(s4, a, b);
            s5 = TLanes.MultiplyAdd(s5, a, b);
            s6 = TLanes.MultiplyAdd(s6, a, b);
            s7 = TLanes.MultiplyAdd(s7, a, b);
            s8 = TLanes.MultiplyAdd(s8, a, b);
            s9 = TLanes.MultiplyAdd(s9, a, b);
            s10 = TLanes.MultiplyAdd(s10, a, b);
            s11 = TLanes.MultiplyAdd(s11, a, b);
        }

        var sum = TLanes.Add(TLanes.Add(TLanes.Add(s0, s1), TLanes.Add(s2, s3)), TLanes.Add(TLanes.Add(s4, s5), TLanes.Add(s6, s7)));
        sum = TLanes.Add(sum, TLanes.Add(TLanes.Add(s8, s9), TLanes.Add(s10, s11)));
        return TLanes.SumAcross(sum) / (Accumulators * TLanes.Count);
    }

    // One thread's share: the loop, run `loops` times.
    private readonly struct Loops(float[] sums, int loops) : IParallelItems
    {
        public void Run(int item)
        {
            float sum = 0;
            for (int i = 0; i < loops; i++)
            {
                sum += FmaPeakBenchmarks.Run();
            }

            sums[item] = sum / loops;
        }
    }

    /// <summary>Adds a GFLOP/s column (2 FLOP per lane per FMA).</summary>
    public sealed class GflopsConfig : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public GflopsConfig() => AddColumn(new ThroughputColumn("GFLOP/s", Gflop));

        private static double Gflop(BenchmarkCase benchmarkCase)
            => FlopPerThread * ThroughputColumn.Parameter(benchmarkCase, nameof(Threads)) / 1e9;
    }
}
