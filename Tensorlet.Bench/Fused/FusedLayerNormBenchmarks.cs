using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;

namespace Tensorlet.Bench;

/// <summary>
/// The fused layer norm, forward (y, mean, rstd) and backward (dx and the weight and bias gradients), on one thread and
/// on every core (cpu) or as the ILGPU kernels. The library has no unfused layer norm, so each category's baseline is
/// the fused kernel on one thread.
/// </summary>
[Config(typeof(Config))]
public class FusedLayerNormBenchmarks
{
    private const float Epsilon = 1e-5f;

    private Device? device;
    private float[] x = [], weight = [], bias = [], y = [], mean = [], rstd = [], dy = [], dx = [], dWeight = [], dBias = [];
    private Tensor? xT, weightT, biasT, yT, meanT, rstdT, dyT, dxT, dWeightT, dBiasT;

    /// <summary>N: 100 sequences × 32 steps.</summary>
    [Params(3200)]
    public int Rows { get; set; }

    /// <summary>D: a hidden size of the models we train, and a wider one.</summary>
    [Params(256, 1024)]
    public int Columns { get; set; }

    /// <summary>The device.</summary>
    [ParamsSource(typeof(FusedKernelBenchmarks), nameof(FusedKernelBenchmarks.Devices))]
    public string DeviceName { get; set; } = "cpu";

    private bool OnCpu => DeviceName == "cpu";

    /// <summary>Builds the inputs and checks both passes against the float64 reference.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        int length = Rows * Columns;
        x = FusedKernelBenchmarks.Uniform(rng, length, 3);
        weight = FusedKernelBenchmarks.Uniform(rng, Columns, 1);
        bias = FusedKernelBenchmarks.Uniform(rng, Columns, 1);
        dy = FusedKernelBenchmarks.Uniform(rng, length, 1);
        (y, dx, mean, rstd, dWeight, dBias) = (new float[length], new float[length], new float[Rows], new float[Rows], new float[Columns], new float[Columns]);
        if (!OnCpu)
        {
            device = Device.Create(DeviceName);
            (xT, weightT, biasT, dyT) = (device.FromArray(x, Rows, Columns), device.FromArray(weight, Columns), device.FromArray(bias, Columns), device.FromArray(dy, Rows, Columns));
            (yT, dxT, meanT, rstdT) = (device.Zeros(Rows, Columns), device.Zeros(Rows, Columns), device.Zeros(Rows), device.Zeros(Rows));
            (dWeightT, dBiasT) = (device.Zeros(Columns), device.Zeros(Columns));
        }

        var refY = new double[length];
        var refMean = new double[Rows];
        var refRstd = new double[Rows];
        ReferenceLayerNorm.Forward(Rows, Columns, FusedKernelBenchmarks.Widen(x), FusedKernelBenchmarks.Widen(weight), FusedKernelBenchmarks.Widen(bias), Epsilon, refY, refMean, refRstd);
        Forward();
        FusedKernelBenchmarks.Validate("y", yT?.ToArray() ?? y, refY);
        FusedKernelBenchmarks.Validate("mean", meanT?.ToArray() ?? mean, refMean);
        FusedKernelBenchmarks.Validate("rstd", rstdT?.ToArray() ?? rstd, refRstd);

        // The backward reference from the float32 statistics the kernels saved.
        var refDx = new double[length];
        var refDWeight = new double[Columns];
        var refDBias = new double[Columns];
        ReferenceLayerNorm.Backward(
            Rows,
            Columns,
            FusedKernelBenchmarks.Widen(x),
            FusedKernelBenchmarks.Widen(meanT?.ToArray() ?? mean),
            FusedKernelBenchmarks.Widen(rstdT?.ToArray() ?? rstd),
            FusedKernelBenchmarks.Widen(weight),
            FusedKernelBenchmarks.Widen(dy),
            refDx,
            refDWeight,
            refDBias);
        Backward();
        FusedKernelBenchmarks.Validate("dx", dxT?.ToArray() ?? dx, refDx);
        FusedKernelBenchmarks.Validate("dWeight", dWeightT?.ToArray() ?? dWeight, refDWeight);
        FusedKernelBenchmarks.Validate("dBias", dBiasT?.ToArray() ?? dBias, refDBias);
    }

    /// <summary>Frees the device tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { xT, weightT, biasT, yT, meanT, rstdT, dyT, dxT, dWeightT, dBiasT })
        {
            t?.Dispose();
        }

        device?.Dispose();
    }

    /// <summary>The forward on one thread (cpu), or the ILGPU kernel.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Forward")]
    public void Forward()
    {
        if (!OnCpu)
        {
            Ops.LayerNormForward(xT!, weightT, biasT, Epsilon, yT!, meanT!, rstdT!);
            device!.Synchronize();
            return;
        }

        CpuLayerNorm.Forward(x, weight, bias, y, mean, rstd, Rows, Columns, Epsilon, 1, CpuKernelPlan.Machine.Width);
    }

    /// <summary>The forward on every core (cpu only; the same kernel as <see cref="Forward"/> elsewhere).</summary>
    [Benchmark]
    [BenchmarkCategory("Forward")]
    public void ForwardAllCores()
    {
        if (!OnCpu)
        {
            Forward();
            return;
        }

        CpuLayerNorm.Forward(x, weight, bias, y, mean, rstd, Rows, Columns, Epsilon, Environment.ProcessorCount, CpuKernelPlan.Machine.Width);
    }

    /// <summary>The backward (dx, and the gradients added to) on one thread (cpu), or the ILGPU kernels.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Backward")]
    public void Backward()
    {
        if (!OnCpu)
        {
            Ops.LayerNormBackward(xT!, meanT!, rstdT!, weightT, dyT!, dxT!, dWeightT, dBiasT);
            device!.Synchronize();
            return;
        }

        CpuLayerNorm.Backward(x, mean, rstd, weight, dy, dx, dWeight, dBias, Rows, Columns, 1, CpuKernelPlan.Machine.Width);
    }

    /// <summary>The backward on every core (cpu only; the same kernels as <see cref="Backward"/> elsewhere).</summary>
    [Benchmark]
    [BenchmarkCategory("Backward")]
    public void BackwardAllCores()
    {
        if (!OnCpu)
        {
            Backward();
            return;
        }

        CpuLayerNorm.Backward(x, mean, rstd, weight, dy, dx, dWeight, dBias, Rows, Columns, Environment.ProcessorCount, CpuKernelPlan.Machine.Width);
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn("Melements/s", bc => ThroughputColumn.Parameter(bc, nameof(Rows)) * (double)ThroughputColumn.Parameter(bc, nameof(Columns)) / 1e6));
            AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        }
    }
}
