using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Tensorlet.Bench.Infrastructure;

namespace Tensorlet.Bench;

/// <summary>
/// The machine's float32 FMA peak as it runs now: a loop of fused multiply-adds on registers only, with enough
/// independent accumulators to keep both FMA ports busy through their latency. A virtual machine's clock moves
/// from one hour to the next, so the GEMM's GFLOP/s mean most beside a peak measured in the same run:
/// <c>dotnet run -c Release --project Tensorlet.Bench -- --filter '*CpuGemmBenchmarks.Packed*' '*FmaPeak*' --job short</c>.
/// </summary>
[Config(typeof(GflopsConfig))]
public class FmaPeakBenchmarks
{
    // 16 chains of 4-cycle FMAs cover 2 ports × 4 cycles of latency twice over, so the loop is bound by throughput.
    private const int Accumulators = 16;
    private const int IterationsPerThread = 1 << 20;

    private readonly float[] sums = new float[64];

    /// <summary>Threads, each running the loop on its own core.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Lanes per vector: 16 with AVX-512, else 8.</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector256<float>.Count;

    /// <summary>Runs the loop once and checks that its accumulators converged where the recurrence says.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Fma();

        // acc ← acc·a + b with a = 1 − 2⁻¹⁰, b = 2⁻¹⁰ converges to 1 from 0: a loop the JIT dropped or cut short leaves
        // its accumulators near 0.
        for (int t = 0; t < Threads; t++)
        {
            if (!(Math.Abs(sums[t] - 1f) < 1e-3f))
            {
                throw new InvalidOperationException($"the FMA loop on thread {t} ended at {sums[t]}, not 1: not timing a wrong loop.");
            }
        }
    }

    /// <summary>Each thread runs <c>IterationsPerThread</c> × 16 vector FMAs.</summary>
    [Benchmark]
    public void Fma()
    {
        if (Threads == 1)
        {
            sums[0] = Run();
            return;
        }

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => sums[t] = Run());
    }

    private static float Run() => Vector512.IsHardwareAccelerated ? Run512() : Run256();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Run512()
    {
        var a = Vector512.Create(1f - (1f / 1024));
        var b = Vector512.Create(1f / 1024);
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        Vector512<float> s8 = default, s9 = default, s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        for (int i = 0; i < IterationsPerThread; i++)
        {
            s0 = Vector512.FusedMultiplyAdd(s0, a, b);
            s1 = Vector512.FusedMultiplyAdd(s1, a, b);
            s2 = Vector512.FusedMultiplyAdd(s2, a, b);
            s3 = Vector512.FusedMultiplyAdd(s3, a, b);
            s4 = Vector512.FusedMultiplyAdd(s4, a, b);
            s5 = Vector512.FusedMultiplyAdd(s5, a, b);
            s6 = Vector512.FusedMultiplyAdd(s6, a, b);
            s7 = Vector512.FusedMultiplyAdd(s7, a, b);
            s8 = Vector512.FusedMultiplyAdd(s8, a, b);
            s9 = Vector512.FusedMultiplyAdd(s9, a, b);
            s10 = Vector512.FusedMultiplyAdd(s10, a, b);
            s11 = Vector512.FusedMultiplyAdd(s11, a, b);
            s12 = Vector512.FusedMultiplyAdd(s12, a, b);
            s13 = Vector512.FusedMultiplyAdd(s13, a, b);
            s14 = Vector512.FusedMultiplyAdd(s14, a, b);
            s15 = Vector512.FusedMultiplyAdd(s15, a, b);
        }

        var sum = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11 + s12 + s13 + s14 + s15;
        return Vector512.Sum(sum) / (Accumulators * Vector512<float>.Count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Run256()
    {
        var a = Vector256.Create(1f - (1f / 1024));
        var b = Vector256.Create(1f / 1024);
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        Vector256<float> s8 = default, s9 = default, s10 = default, s11 = default, s12 = default, s13 = default, s14 = default, s15 = default;
        for (int i = 0; i < IterationsPerThread; i++)
        {
            s0 = Vector256.FusedMultiplyAdd(s0, a, b);
            s1 = Vector256.FusedMultiplyAdd(s1, a, b);
            s2 = Vector256.FusedMultiplyAdd(s2, a, b);
            s3 = Vector256.FusedMultiplyAdd(s3, a, b);
            s4 = Vector256.FusedMultiplyAdd(s4, a, b);
            s5 = Vector256.FusedMultiplyAdd(s5, a, b);
            s6 = Vector256.FusedMultiplyAdd(s6, a, b);
            s7 = Vector256.FusedMultiplyAdd(s7, a, b);
            s8 = Vector256.FusedMultiplyAdd(s8, a, b);
            s9 = Vector256.FusedMultiplyAdd(s9, a, b);
            s10 = Vector256.FusedMultiplyAdd(s10, a, b);
            s11 = Vector256.FusedMultiplyAdd(s11, a, b);
            s12 = Vector256.FusedMultiplyAdd(s12, a, b);
            s13 = Vector256.FusedMultiplyAdd(s13, a, b);
            s14 = Vector256.FusedMultiplyAdd(s14, a, b);
            s15 = Vector256.FusedMultiplyAdd(s15, a, b);
        }

        var sum = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11 + s12 + s13 + s14 + s15;
        return Vector256.Sum(sum) / (Accumulators * Vector256<float>.Count);
    }

    /// <summary>Adds a GFLOP/s column (2 FLOP per lane per FMA).</summary>
    public sealed class GflopsConfig : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public GflopsConfig() => AddColumn(new ThroughputColumn("GFLOP/s", Gflop));

        private static double Gflop(BenchmarkCase benchmarkCase)
            => 2.0 * Lanes * Accumulators * (double)IterationsPerThread * ThroughputColumn.Parameter(benchmarkCase, nameof(Threads)) / 1e9;
    }
}
