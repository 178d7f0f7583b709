using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;

namespace Tensorlet.Bench;

/// <summary>
/// The <c>cpu</c> max and average 1-d poolings, forward and backward, on one thread, at the plain-float width (one row
/// at a time, the loop every width ends with) and at the machine's widest (a register of rows at a time): the baseline
/// says what the registers buy. The input is a text CNN's feature map, 32 sequences × 256 channels × 512 positions,
/// pooled by kernel 3, stride 2, padding 1 (nn.MaxPool1d(3, 2, 1)) or over the whole row (nn.AdaptiveMaxPool1d(1)).
/// Every width is checked against the float64 reference in [GlobalSetup] before anything is timed.
/// </summary>
[Config(typeof(Config))]
public class CpuPoolBenchmarks
{
    private const int Rows = 32 * 256;
    private const int Length = 512;

    private Pool1dGeometry geometry;
    private CpuVectorWidth width;
    private float[] x = [], y = [], dy = [], dx = [];
    private int[] argmax = [];

    /// <summary>Max or Avg.</summary>
    [Params("Max", "Avg")]
    public string Pool { get; set; } = "Max";

    /// <summary>"k3s2p1" (kernel 3, stride 2, padding 1) or "global" (one window per row).</summary>
    [Params("k3s2p1", "global")]
    public string Window { get; set; } = "k3s2p1";

    /// <summary>Scalar, or the widest register the machine runs.</summary>
    [ParamsSource(nameof(Widths))]
    public string Width { get; set; } = "Scalar";

    /// <summary>Scalar and the widest supported width.</summary>
    public static IEnumerable<string> Widths() => new[] { "Scalar", CpuKernelPlan.Supported().First().ToString() }.Distinct();

    private bool IsMax => Pool == "Max";

    /// <summary>Builds the inputs and checks both passes against the float64 reference.</summary>
    [GlobalSetup]
    public void Setup()
    {
        width = Enum.Parse<CpuVectorWidth>(Width);
        geometry = Window == "global"
            ? Pool1dGeometry.AdaptiveWindows(Rows, Length, 1)
            : Pool1dGeometry.Sliding(Rows, Length, kernelSize: 3, stride: 2, padding: 1, dilation: 1, countIncludePad: true);
        int outputs = checked(Rows * geometry.OutputLength);
        var rng = new Random(5);
        x = FusedKernelBenchmarks.Uniform(rng, Rows * Length, 3);
        dy = FusedKernelBenchmarks.Uniform(rng, outputs, 1);
        (y, dx, argmax) = (new float[outputs], new float[Rows * Length], new int[outputs]);

        var refY = new double[outputs];
        var refDx = new double[Rows * Length];
        Forward();
        Backward();
        if (IsMax)
        {
            var refArgmax = new int[outputs];
            ReferencePool.MaxForward(geometry, FusedKernelBenchmarks.Widen(x), refY, refArgmax);
            ReferencePool.MaxBackward(geometry, FusedKernelBenchmarks.Widen(dy), refArgmax, refDx);
        }
        else
        {
            ReferencePool.AvgForward(geometry, FusedKernelBenchmarks.Widen(x), refY);
            ReferencePool.AvgBackward(geometry, FusedKernelBenchmarks.Widen(dy), refDx);
        }

        FusedKernelBenchmarks.Validate("y", y, refY);
        FusedKernelBenchmarks.Validate("dx", dx, refDx);
    }

    /// <summary>y (and the argmax for max pooling) from x, on one thread.</summary>
    [Benchmark]
    [BenchmarkCategory("Forward")]
    public void Forward()
    {
        if (IsMax)
        {
            CpuPool.MaxForward(x, y, argmax, geometry, 1, width);
        }
        else
        {
            CpuPool.AvgForward(x, y, geometry, 1, width);
        }
    }

    /// <summary>dx from dy (and the argmax for max pooling), on one thread.</summary>
    [Benchmark]
    [BenchmarkCategory("Backward")]
    public void Backward()
    {
        if (IsMax)
        {
            CpuPool.MaxBackward(dy, argmax, dx, geometry, 1, width);
        }
        else
        {
            CpuPool.AvgBackward(dy, dx, geometry, 1, width);
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn("Melements/s", _ => (double)Rows * Length / 1e6));
            AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        }
    }
}
