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
    private float[] a = [], b = [], c = [];
    private PackedMatrix? packed;

    /// <summary>Which multiplication of the LSTM.</summary>
    public enum GemmShape
    {
        /// <summary>One recurrent step: h [100, H] · W_hhᵀ (W_hh [4H, H]).</summary>
        Recurrent,

        /// <summary>The input projection of all steps: x [9900, H] · W_ihᵀ.</summary>
        InputProjection,

        /// <summary>The weight gradient: dYᵀ · X, dY [9900, 4H], X [9900, H].</summary>
        WeightGradient,

        /// <summary>The input gradient: dY [9900, 4H] · W [4H, H].</summary>
        InputGradient,

        /// <summary>The output head: h [9900, H] · W_outᵀ (W_out [32, H]).</summary>
        OutputHead,

        /// <summary>The output head's weight gradient: dYᵀ · h, dY [9900, 32], h [9900, H].</summary>
        OutputHeadWeightGradient,

        /// <summary>The output head's input gradient: dY [9900, 32] · W_out [32, H].</summary>
        OutputHeadInputGradient,

        /// <summary>The wavefront's hand-over forward: one chunk's input projection, x [200, H] · W_ihᵀ (run on one thread, in parts of the columns).</summary>
        ChunkProjection,

        /// <summary>The wavefront's hand-over backward: one chunk's input gradient, dY [200, 4H] · W [4H, H] (one thread, in parts of the columns).</summary>
        ChunkInputGradient,
    }

    /// <summary>The LSTM's hidden size.</summary>
    [Params(256, 512)]
    public int H { get; set; }

    /// <summary>The multiplication.</summary>
    [ParamsAllValues]
    public GemmShape Shape { get; set; }

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

    /// <summary>The dimensions and layout of a shape: C [M, N] = op(A) [M, K] · op(B) [K, N].</summary>
    public static (int M, int N, int K, bool TransposeA, bool TransposeB) Dimensions(GemmShape shape, int h) => shape switch
    {
        GemmShape.Recurrent => (100, 4 * h, h, false, true),
        GemmShape.InputProjection => (9900, 4 * h, h, false, true),
        GemmShape.WeightGradient => (4 * h, h, 9900, true, false),
        GemmShape.InputGradient => (9900, h, 4 * h, false, false),
        GemmShape.OutputHead => (9900, 32, h, false, true),
        GemmShape.OutputHeadWeightGradient => (32, h, 9900, true, false),
        GemmShape.OutputHeadInputGradient => (9900, h, 32, false, false),
        GemmShape.ChunkProjection => (200, 4 * h, h, false, true),
        GemmShape.ChunkInputGradient => (200, h, 4 * h, false, false),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    /// <summary>Allocates random operands, packs B, and checks both variants against float64 before any timing.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Geometry = Width == "machine"
            ? GemmGeometry.Machine
            : CpuKernelPlan.For(CpuKernelPlan.ParseWidth(Width) ?? throw new ArgumentException($"TENSORLET_BENCH_WIDTHS: unknown width '{Width}'.")).Gemm;
        var (m, n, k, _, transposeB) = Dimensions(Shape, H);
        var rng = new Random(42);
        a = GemmBenchmarkData.Random(rng, m * k);
        b = GemmBenchmarkData.Random(rng, k * n);
        c = new float[m * n];
        packed = CpuGemm.PackB(transposeB, k, n, b, Threads, geometry: Geometry);

        PackedFreshEachCall();
        GemmBenchmarkData.Validate(Shape, H, a, b, c, "fresh pack");
        Array.Clear(c);
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
        var (m, n, k, transposeA, transposeB) = Dimensions(Shape, H);
        CpuGemm.Gemm(transposeA, transposeB, m, n, k, 1f, a, b, 0f, c, Threads, Geometry);
    }

    /// <summary>Multiplies by a B packed in setup (a GEMM whose pack cache is fresh).</summary>
    [Benchmark]
    public void PackedReused()
    {
        var (m, _, _, transposeA, _) = Dimensions(Shape, H);
        CpuGemm.Gemm(transposeA, m, 1f, a, packed!, 0f, c, Threads);
    }

    /// <summary>Adds a GFLOP/s column (2·M·N·K per call).</summary>
    public sealed class GflopsConfig : ManualConfig
    {
        /// <summary>Creates the config.</summary>
        public GflopsConfig() => AddColumn(new ThroughputColumn("GFLOP/s", Gflop));

        private static double Gflop(BenchmarkCase benchmarkCase)
        {
            var shape = (GemmShape)benchmarkCase.Parameters[nameof(Shape)];
            var (m, n, k, _, _) = Dimensions(shape, ThroughputColumn.Parameter(benchmarkCase, nameof(H)));
            return 2.0 * m * n * k / 1e9;
        }
    }
}
