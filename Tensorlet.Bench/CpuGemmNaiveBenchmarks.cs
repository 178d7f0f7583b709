using BenchmarkDotNet.Attributes;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench;

/// <summary>
/// The textbook triple loop on the smallest LSTM shape (the recurrent step at H = 256), for scale beside
/// <see cref="CpuGemmBenchmarks"/>: it is far too slow for the 9900-row shapes.
/// </summary>
[Config(typeof(CpuGemmBenchmarks.GflopsConfig))]
public class CpuGemmNaiveBenchmarks
{
    private ArraySegment<float> a, b, c;

    /// <summary>Fixed to the recurrent step so the GFLOP/s column can read it.</summary>
    [Params(StepGemmShape.Recurrent)]
    public StepGemmShape Shape { get; set; }

    /// <summary>The hidden size.</summary>
    [Params(256)]
    public int H { get; set; }

    /// <summary>Allocates the operands and checks the loop against float64 before timing.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k, _, _) = StepGemmShapes.Dimensions(Shape, H);
        var rng = new Random(42);
        a = GemmBenchmarkData.Random(rng, m * k);
        b = GemmBenchmarkData.Random(rng, k * n);
        c = GemmBenchmarkData.Zeros(m * n);
        NaiveLoop();
        GemmBenchmarkData.Validate(Shape, H, a, b, c, "naive loop");
    }

    /// <summary>One dot product per element of C, single-threaded.</summary>
    [Benchmark]
    public void NaiveLoop()
    {
        var (m, n, k, transposeA, transposeB) = StepGemmShapes.Dimensions(Shape, H);
        NaiveGemm.Gemm(transposeA, transposeB, m, n, k, 1f, a, b, 0f, c);
    }
}
