using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench;

/// <summary>
/// The cpu GEMM on the shapes of a 2-layer LSTM step at batch 100 × 99 steps (9900 rows), and of the wavefront's chunks
/// of two steps (200 rows): packing B on every call, and multiplying by a B packed once (what the pack cache gives the
/// recurrent weight). Run with <c>'*FmaPeak*'</c> in the same invocation to read the GFLOP/s column against the peak.
/// Run: <c>dotnet run -c Release --project Tensorlet.Bench -- --filter '*CpuGemm*' --job short</c>.
/// The microkernel is this process's choice (<c>machine</c>), or each width listed in TENSORLET_BENCH_WIDTHS
/// (e.g. <c>machine,256,128</c>), each with the blocking derived for it from this machine's caches.
/// </summary>
[Config(typeof(GflopsConfig))]
public class CpuGemmBenchmarks
{
    private ArraySegment<float> a, b, c;
    private PackedMatrix? packed;

    /// <summary>The LSTM's hidden size.</summary>
    [Params(256, 512)]
    public int H { get; set; }

    /// <summary>The multiplication.</summary>
    [ParamsAllValues]
    public StepGemmShape Shape { get; set; }

    /// <summary>Threads the GEMM may use.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>The register width: <c>machine</c>, or 512, 256, 128, scalar.</summary>
    [ParamsSource(nameof(Widths))]
    public string Width { get; set; } = "machine";

    private GemmGeometry Geometry { get; set; }

    /// <summary>The widths to run: TENSORLET_BENCH_WIDTHS, else this process's choice only.</summary>
    public static IEnumerable<string> Widths()
    {
        var configured = Environment.GetEnvironmentVariable("TENSORLET_BENCH_WIDTHS");
        return string.IsNullOrWhiteSpace(configured)
            ? ["machine"]
            : configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Allocates random operands, packs B, and checks both variants against float64 before any timing.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Geometry = Width == "machine"
            ? GemmGeometry.Machine
            : CpuKernelPlan.For(CpuKernelPlan.ParseWidth(Width) ?? throw new ArgumentException($"TENSORLET_BENCH_WIDTHS: unknown width '{Width}'.")).Gemm;
        var (m, n, k, _, transposeB) = StepGemmShapes.Dimensions(Shape, H);
        var rng = new Random(42);
        a = GemmBenchmarkData.Random(rng, m * k);
        b = GemmBenchmarkData.Random(rng, k * n);
        c = GemmBenchmarkData.Zeros(m * n);
        packed = CpuGemm.PackB(transposeB, k, n, b, Threads, geometry: Geometry);

        PackedFreshEachCall();
        GemmBenchmarkData.Validate(Shape, H, a, b, c, "fresh pack");
        c.AsSpan().Clear();
        PackedReused();
        GemmBenchmarkData.Validate(Shape, H, a, b, c, "reused pack");
    }

    /// <summary>Frees the packed B.</summary>
    [GlobalCleanup]
    public void Cleanup() => packed?.Dispose();

    /// <summary>Packs B, then multiplies (a GEMM with no cache).</summary>
    [Benchmark(Baseline = true)]
    public void PackedFreshEachCall()
    {
        var (m, n, k, transposeA, transposeB) = StepGemmShapes.Dimensions(Shape, H);
        CpuGemm.Gemm(transposeA, transposeB, m, n, k, 1f, a, b, 0f, c, Threads, Geometry);
    }

    /// <summary>Multiplies by a B packed in setup (a GEMM whose pack cache is fresh).</summary>
    [Benchmark]
    public void PackedReused()
    {
        var (m, _, _, transposeA, _) = StepGemmShapes.Dimensions(Shape, H);
        CpuGemm.Gemm(transposeA, m, 1f, a, packed!, 0f, c, Threads);
    }

    /// <summary>Adds a GFLOP/s column (2·M·N·K per call).</summary>
    public sealed class GflopsConfig : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public GflopsConfig() => AddColumn(new ThroughputColumn("GFLOP/s", Gflop));

        private static double Gflop(BenchmarkCase benchmarkCase)
        {
            var shape = (StepGemmShape)benchmarkCase.Parameters[nameof(Shape)];
            var (m, n, k, _, _) = StepGemmShapes.Dimensions(shape, ThroughputColumn.Parameter(benchmarkCase, nameof(H)));
            return 2.0 * m * n * k / 1e9;
        }
    }
}
