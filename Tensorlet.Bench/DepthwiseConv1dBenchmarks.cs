using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Reference;
using Tensorlet.Nn;

namespace Tensorlet.Bench;

/// <summary>
/// A depthwise Conv1d layer's Forward and Backward through the module on <c>cpu</c>, by its direct kernel and by the
/// grouped GEMMs (one per channel) it would otherwise run: the baseline says what the direct kernel buys. The layer is
/// a depthwise-separable block's first half, nn.Conv1d(256, 256, 3, padding=1, groups=256), on a text CNN's feature
/// map of 32 sequences × 256 channels × 512 positions. Both paths' output, input gradient and parameter gradients are
/// checked against the float64 reference in [GlobalSetup] before anything is timed; the parameter gradients then
/// accumulate from call to call, as between two zeroings in training.
/// </summary>
[Config(typeof(Config))]
public class DepthwiseConv1dBenchmarks
{
    private const int Batch = 32, Channels = 256, Length = 512, KernelSize = 3, Padding = 1;

    private Device device = null!;
    private Conv1d layer = null!;
    private Tensor x = null!, dy = null!;

    /// <summary>"Direct" (the layer's kernel) or "Gemm" (the unfold and a GEMM per group).</summary>
    [Params("Direct", "Gemm")]
    public string Path { get; set; } = "Direct";

    /// <summary>Builds the layer and its inputs, and checks one Forward and Backward against the float64 reference.</summary>
    [GlobalSetup]
    public void Setup()
    {
        device = Device.Create("cpu");
        layer = new Conv1d(Channels, Channels, KernelSize, padding: Padding, groups: Channels) { DepthwiseByGemm = Path == "Gemm" };
        layer.Build(device, seed: 7);
        var rng = new Random(5);
        var xData = FusedKernelBenchmarks.Uniform(rng, Batch * Channels * Length, 1);
        var dyData = FusedKernelBenchmarks.Uniform(rng, Batch * Channels * Length, 1);
        x = device.FromArray(xData, Batch, Channels, Length);
        dy = device.FromArray(dyData, Batch, Channels, Length);

        var g = new DepthwiseConv1dGeometry(new Conv1dGeometry(Batch, Channels, Length, KernelSize, 1, Padding, Padding, 1), 1);
        var weight = FusedKernelBenchmarks.Widen(layer.Weight.Value.ToArray());
        var bias = FusedKernelBenchmarks.Widen(layer.Bias!.Value.ToArray());
        var (refY, refDx) = (new double[dyData.Length], new double[xData.Length]);
        var (refDw, refDb) = (new double[weight.Length], new double[bias.Length]);
        ReferenceDepthwiseConv1d.Forward(g, FusedKernelBenchmarks.Widen(xData), weight, bias, refY);
        ReferenceDepthwiseConv1d.BackwardInput(g, FusedKernelBenchmarks.Widen(dyData), weight, refDx);
        ReferenceDepthwiseConv1d.BackwardWeight(g, FusedKernelBenchmarks.Widen(xData), FusedKernelBenchmarks.Widen(dyData), refDw, refDb);

        FusedKernelBenchmarks.Validate($"{Path} y", layer.Forward(x).ToArray(), refY);
        FusedKernelBenchmarks.Validate($"{Path} dx", layer.Backward(dy).ToArray(), refDx);
        FusedKernelBenchmarks.Validate($"{Path} dW", layer.Weight.Gradient.ToArray(), refDw);
        FusedKernelBenchmarks.Validate($"{Path} db", layer.Bias.Gradient.ToArray(), refDb);
    }

    /// <summary>Frees the layer, the inputs and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        x.Dispose();
        dy.Dispose();
        layer.Dispose();
        device.Dispose();
    }

    /// <summary>One Forward and one Backward of the layer; returns dx.</summary>
    [Benchmark]
    public Tensor ForwardBackward()
    {
        layer.Forward(x);
        return layer.Backward(dy);
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn("Melements/s", _ => (double)Batch * Channels * Length / 1e6));
    }
}
