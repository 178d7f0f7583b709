using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;

namespace Tensorlet.Bench;

/// <summary>The fused softmax cross-entropy against softmax, log, gather and the gradient as separate passes.</summary>
[Config(typeof(Config))]
public unsafe class FusedSoftmaxCrossEntropyBenchmarks
{
    private Device? device;
    private float[] logits = [], losses = [], dLogits = [], probabilities = [], logProbabilities = [];
    private int[] targets = [];
    private Tensor? logitsT, lossesT, dLogitsT, probabilitiesT, logProbabilitiesT;
    private IndexTensor? targetsT;
    private UnfusedIlgpuKernels? unfused;

    /// <summary>N: 100 sequences × 99 steps.</summary>
    [Params(9900)]
    public int Rows { get; set; }

    /// <summary>V: the 32-character vocabulary, and a bigger one.</summary>
    [Params(32, 1000)]
    public int Classes { get; set; }

    /// <summary>The device.</summary>
    [ParamsSource(typeof(FusedKernelBenchmarks), nameof(FusedKernelBenchmarks.Devices))]
    public string DeviceName { get; set; } = "cpu";

    private bool OnCpu => DeviceName == "cpu";

    private float GradScale => 1f / Rows;

    /// <summary>Builds the inputs and checks both variants against the float64 reference.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        logits = FusedKernelBenchmarks.Uniform(rng, Rows * Classes, 8);
        targets = [.. Enumerable.Range(0, Rows).Select(_ => rng.Next(Classes))];
        losses = new float[Rows];
        dLogits = new float[Rows * Classes];
        probabilities = new float[Rows * Classes];
        logProbabilities = new float[Rows * Classes];
        var refLosses = new double[Rows];
        var refDLogits = new double[Rows * Classes];
        ReferenceSoftmax.CrossEntropy(Rows, Classes, FusedKernelBenchmarks.Widen(logits), targets, refLosses, refDLogits, GradScale);
        if (!OnCpu)
        {
            device = Device.Create(DeviceName);
            logitsT = device.FromArray(logits, Rows, Classes);
            targetsT = device.IndexFromArray(targets, Rows);
            lossesT = device.Zeros(Rows);
            dLogitsT = device.Zeros(Rows, Classes);
            probabilitiesT = device.Zeros(Rows, Classes);
            logProbabilitiesT = device.Zeros(Rows, Classes);
            unfused = new UnfusedIlgpuKernels(FusedKernelBenchmarks.Ilgpu(device).Accelerator);
        }

        Fused();
        FusedKernelBenchmarks.Validate("fused losses", lossesT?.ToArray() ?? losses, refLosses);
        FusedKernelBenchmarks.Validate("fused dLogits", dLogitsT?.ToArray() ?? dLogits, refDLogits);
        Unfused();
        FusedKernelBenchmarks.Validate("unfused losses", lossesT?.ToArray() ?? losses, refLosses);
        FusedKernelBenchmarks.Validate("unfused dLogits", dLogitsT?.ToArray() ?? dLogits, refDLogits);
    }

    /// <summary>Frees the device tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { logitsT, lossesT, dLogitsT, probabilitiesT, logProbabilitiesT })
        {
            t?.Dispose();
        }

        targetsT?.Dispose();
        device?.Dispose();
    }

    /// <summary>
    /// softmax (row max, exp and sum, normalize), then log over the whole matrix, then gather −log p at the targets,
    /// then the gradient (p − onehot)·scale: four operations, six sweeps.
    /// </summary>
    [Benchmark(Baseline = true)]
    public void Unfused()
    {
        if (!OnCpu)
        {
            unfused!.SoftmaxCrossEntropy(logitsT!, targetsT!, probabilitiesT!, logProbabilitiesT!, lossesT!, dLogitsT!, Rows, Classes, GradScale);
            device!.Synchronize();
            return;
        }

        fixed (float* x = logits, p = probabilities, logP = logProbabilities, l = losses, d = dLogits)
        {
            int v = Classes;
            for (int r = 0; r < Rows; r++)
            {
                float* row = x + ((long)r * v), pRow = p + ((long)r * v);
                float max = UnfusedCpuPasses.Max(row, v);
                float sum = UnfusedCpuPasses.ExpShiftedSum(row, max, pRow, v);
                UnfusedCpuPasses.Scale(pRow, 1f / sum, pRow, v);
            }

            long all = (long)Rows * v;
            UnfusedCpuPasses.Map<LogOperator>(p, (int)all, logP, (int)all, 1, (int)all);
            for (int r = 0; r < Rows; r++)
            {
                l[r] = -logP[((long)r * v) + targets[r]];
            }

            UnfusedCpuPasses.Scale(p, GradScale, d, (int)all);
            for (int r = 0; r < Rows; r++)
            {
                d[((long)r * v) + targets[r]] -= GradScale;
            }
        }
    }

    /// <summary>The fused kernel on one thread (cpu), or the ILGPU kernel.</summary>
    [Benchmark]
    public void Fused()
    {
        if (!OnCpu)
        {
            Ops.SoftmaxCrossEntropy(logitsT!, targetsT!, lossesT!, dLogitsT!, GradScale);
            device!.Synchronize();
            return;
        }

        CpuSoftmax.CrossEntropy(logits, targets, losses, dLogits, Rows, Classes, GradScale, 1, CpuKernelPlan.Machine.Width);
    }

    /// <summary>The fused kernel on every core (cpu only).</summary>
    [Benchmark]
    public void FusedAllCores()
    {
        if (!OnCpu)
        {
            Fused();
            return;
        }

        CpuSoftmax.CrossEntropy(logits, targets, losses, dLogits, Rows, Classes, GradScale, Environment.ProcessorCount, CpuKernelPlan.Machine.Width);
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn("Mlogits/s", bc => ThroughputColumn.Parameter(bc, nameof(Rows)) * (double)ThroughputColumn.Parameter(bc, nameof(Classes)) / 1e6));
            AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByParams);
        }
    }
}
