using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;

namespace Tensorlet.Bench;

/// <summary>The fused LSTM cell against nine (forward) and fourteen (backward) separate elementwise passes.</summary>
[Config(typeof(Config))]
public unsafe class FusedLstmCellBenchmarks
{
    private Device? device;
    private float[] pre = [], cPrev = [], dh = [], dcNext = [];
    private float* gates, c, h, tc, t1, t2, dc, dI, dF, dG, dO, dPre, dcPrev;
    private float* pPre, pCPrev, pDh, pDcNext;
    private float[][] pinned = [];
    private Tensor? preT, cPrevT, gatesT, cT, hT, dhT, dcNextT, dPreT, dcPrevT;
    private Tensor[] scratchT = [];
    private UnfusedIlgpuKernels? unfused;

    /// <summary>B, the batch.</summary>
    [Params(100)]
    public int Batch { get; set; }

    /// <summary>H, the hidden size of the models we train.</summary>
    [Params(256, 512)]
    public int Hidden { get; set; }

    /// <summary>The device.</summary>
    [ParamsSource(typeof(FusedKernelBenchmarks), nameof(FusedKernelBenchmarks.Devices))]
    public string DeviceName { get; set; } = "cpu";

    private bool OnCpu => DeviceName == "cpu";

    /// <summary>Builds the inputs and checks every variant against the float64 reference.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int narrow = Batch * Hidden, wide = 4 * narrow;
        var rng = new Random(1);
        pre = FusedKernelBenchmarks.Uniform(rng, wide, 4);
        cPrev = FusedKernelBenchmarks.Uniform(rng, narrow, 2);
        dh = FusedKernelBenchmarks.Uniform(rng, narrow, 1);
        dcNext = FusedKernelBenchmarks.Uniform(rng, narrow, 1);

        var refGates = new double[wide];
        var refC = new double[narrow];
        var refH = new double[narrow];
        ReferenceLstmCell.Forward(Batch, Hidden, FusedKernelBenchmarks.Widen(pre), FusedKernelBenchmarks.Widen(cPrev), refGates, refC, refH);
        var refDPre = new double[wide];
        var refDcPrev = new double[narrow];

        // The backward reference starts from the float32 gates and c the kernels will save.
        var savedGates = Array.ConvertAll(refGates, v => (double)(float)v);
        var savedC = Array.ConvertAll(refC, v => (double)(float)v);
        ReferenceLstmCell.Backward(
            Batch, Hidden, savedGates, savedC, FusedKernelBenchmarks.Widen(cPrev), FusedKernelBenchmarks.Widen(dh), FusedKernelBenchmarks.Widen(dcNext), refDPre, refDcPrev);

        if (OnCpu)
        {
            SetupCpu(narrow, wide);
        }
        else
        {
            SetupIlgpu();
        }

        foreach (var fused in new[] { true, false })
        {
            string variant = fused ? "fused" : "unfused";
            if (fused)
            {
                FusedForward();
            }
            else
            {
                UnfusedForward();
            }

            FusedKernelBenchmarks.Validate($"{variant} gates", Read(OnCpu ? null : gatesT, gates, wide), refGates);
            FusedKernelBenchmarks.Validate($"{variant} c", Read(OnCpu ? null : cT, c, narrow), refC);
            FusedKernelBenchmarks.Validate($"{variant} h", Read(OnCpu ? null : hT, h, narrow), refH);
            Write(OnCpu ? null : gatesT, gates, Array.ConvertAll(savedGates, v => (float)v));
            Write(OnCpu ? null : cT, c, Array.ConvertAll(savedC, v => (float)v));
            if (fused)
            {
                FusedBackward();
            }
            else
            {
                UnfusedBackward();
            }

            FusedKernelBenchmarks.Validate($"{variant} dPreactivations", Read(OnCpu ? null : dPreT, dPre, wide), refDPre);
            FusedKernelBenchmarks.Validate($"{variant} dcPrev", Read(OnCpu ? null : dcPrevT, dcPrev, narrow), refDcPrev);
        }
    }

    /// <summary>Frees the device tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { preT, cPrevT, gatesT, cT, hT, dhT, dcNextT, dPreT, dcPrevT }.Concat(scratchT))
        {
            t?.Dispose();
        }

        device?.Dispose();
    }

    /// <summary>Forward as nine elementwise passes: σ, σ, tanh, σ over the gate blocks; f·cPrev; i·g; +; tanh c; o·tanh c.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Forward")]
    public void UnfusedForward()
    {
        if (!OnCpu)
        {
            unfused!.Forward(preT!, cPrevT!, gatesT!, cT!, hT!, scratchT, Batch, Hidden);
            device!.Synchronize();
            return;
        }

        int b = Batch, n = Hidden, w = 4 * Hidden;
        UnfusedCpuPasses.Map<SigmoidOperator>(pPre, w, gates, w, b, n);
        UnfusedCpuPasses.Map<SigmoidOperator>(pPre + n, w, gates + n, w, b, n);
        UnfusedCpuPasses.Map<TanhOperator>(pPre + (2 * n), w, gates + (2 * n), w, b, n);
        UnfusedCpuPasses.Map<SigmoidOperator>(pPre + (3 * n), w, gates + (3 * n), w, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(gates + n, w, pCPrev, n, c, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(gates, w, gates + (2 * n), w, t1, n, b, n);
        UnfusedCpuPasses.Zip<AddOperator>(c, n, t1, n, c, n, b, n);
        UnfusedCpuPasses.Map<TanhOperator>(c, n, t1, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(gates + (3 * n), w, t1, n, h, n, b, n);
    }

    /// <summary>The fused cell forward on one thread (cpu), or the ILGPU kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("Forward")]
    public void FusedForward()
    {
        if (!OnCpu)
        {
            Ops.LstmCellForward(preT!, cPrevT!, gatesT!, cT!, hT!);
            device!.Synchronize();
            return;
        }

        int narrow = Batch * Hidden;
        CpuLstmCell.Forward(pre, cPrev, new Span<float>(gates, 4 * narrow), new Span<float>(c, narrow), new Span<float>(h, narrow), Batch, Hidden, 1, CpuKernelPlan.Machine.Width);
    }

    /// <summary>The fused cell forward on every core (cpu only; the same kernel as <see cref="FusedForward"/> elsewhere).</summary>
    [Benchmark]
    [BenchmarkCategory("Forward")]
    public void FusedForwardAllCores()
    {
        if (!OnCpu)
        {
            FusedForward();
            return;
        }

        int narrow = Batch * Hidden;
        CpuLstmCell.Forward(
            pre, cPrev, new Span<float>(gates, 4 * narrow), new Span<float>(c, narrow), new Span<float>(h, narrow), Batch, Hidden, Environment.ProcessorCount, CpuKernelPlan.Machine.Width);
    }

    /// <summary>Backward as fourteen elementwise passes, with a [B,H] temporary per intermediate.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Backward")]
    public void UnfusedBackward()
    {
        if (!OnCpu)
        {
            unfused!.Backward(gatesT!, cT!, cPrevT!, dhT!, dcNextT!, dPreT!, dcPrevT!, scratchT, Batch, Hidden);
            device!.Synchronize();
            return;
        }

        int b = Batch, n = Hidden, w = 4 * Hidden;
        float* i = gates, f = gates + n, g = gates + (2 * n), o = gates + (3 * n);
        UnfusedCpuPasses.Map<TanhOperator>(c, n, tc, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(pDh, n, tc, n, dO, n, b, n);
        UnfusedCpuPasses.Map<OneMinusSquareOperator>(tc, n, t1, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(pDh, n, o, w, t2, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(t2, n, t1, n, t2, n, b, n);
        UnfusedCpuPasses.Zip<AddOperator>(pDcNext, n, t2, n, dc, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(dc, n, g, w, dI, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(dc, n, pCPrev, n, dF, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(dc, n, i, w, dG, n, b, n);
        UnfusedCpuPasses.Zip<MultiplyOperator>(dc, n, f, w, dcPrev, n, b, n);
        UnfusedCpuPasses.Zip<SigmoidBackwardOperator>(i, w, dI, n, dPre, w, b, n);
        UnfusedCpuPasses.Zip<SigmoidBackwardOperator>(f, w, dF, n, dPre + n, w, b, n);
        UnfusedCpuPasses.Zip<TanhBackwardOperator>(g, w, dG, n, dPre + (2 * n), w, b, n);
        UnfusedCpuPasses.Zip<SigmoidBackwardOperator>(o, w, dO, n, dPre + (3 * n), w, b, n);
    }

    /// <summary>The fused cell backward on one thread (cpu), or the ILGPU kernel.</summary>
    [Benchmark]
    [BenchmarkCategory("Backward")]
    public void FusedBackward()
    {
        if (!OnCpu)
        {
            Ops.LstmCellBackward(gatesT!, cT!, cPrevT!, dhT!, dcNextT!, dPreT!, dcPrevT!);
            device!.Synchronize();
            return;
        }

        int narrow = Batch * Hidden;
        CpuLstmCell.Backward(
            new ReadOnlySpan<float>(gates, 4 * narrow), new ReadOnlySpan<float>(c, narrow), cPrev, dh, dcNext, new Span<float>(dPre, 4 * narrow), new Span<float>(dcPrev, narrow), Batch, Hidden, 1, CpuKernelPlan.Machine.Width);
    }

    /// <summary>The fused cell backward on every core (cpu only).</summary>
    [Benchmark]
    [BenchmarkCategory("Backward")]
    public void FusedBackwardAllCores()
    {
        if (!OnCpu)
        {
            FusedBackward();
            return;
        }

        int narrow = Batch * Hidden;
        CpuLstmCell.Backward(
            new ReadOnlySpan<float>(gates, 4 * narrow),
            new ReadOnlySpan<float>(c, narrow),
            cPrev,
            dh,
            dcNext,
            new Span<float>(dPre, 4 * narrow),
            new Span<float>(dcPrev, narrow),
            Batch,
            Hidden,
            Environment.ProcessorCount, CpuKernelPlan.Machine.Width);
    }

    private void SetupCpu(int narrow, int wide)
    {
        // Pinned arrays, so the passes can hold raw pointers for the whole run.
        float* Pin(int n)
        {
            var array = GC.AllocateArray<float>(n, pinned: true);
            pinned = [.. pinned, array];
            fixed (float* p = array)
            {
                return p;
            }
        }

        float* PinCopy(float[] source)
        {
            var p = Pin(source.Length);
            source.CopyTo(new Span<float>(p, source.Length));
            return p;
        }

        pPre = PinCopy(pre);
        pCPrev = PinCopy(cPrev);
        pDh = PinCopy(dh);
        pDcNext = PinCopy(dcNext);
        gates = Pin(wide);
        dPre = Pin(wide);
        c = Pin(narrow);
        h = Pin(narrow);
        tc = Pin(narrow);
        t1 = Pin(narrow);
        t2 = Pin(narrow);
        dc = Pin(narrow);
        dI = Pin(narrow);
        dF = Pin(narrow);
        dG = Pin(narrow);
        dO = Pin(narrow);
        dcPrev = Pin(narrow);
    }

    private void SetupIlgpu()
    {
        device = Device.Create(DeviceName);
        preT = device.FromArray(pre, Batch, 4 * Hidden);
        cPrevT = device.FromArray(cPrev, Batch, Hidden);
        dhT = device.FromArray(dh, Batch, Hidden);
        dcNextT = device.FromArray(dcNext, Batch, Hidden);
        gatesT = device.Zeros(Batch, 4 * Hidden);
        dPreT = device.Zeros(Batch, 4 * Hidden);
        cT = device.Zeros(Batch, Hidden);
        hT = device.Zeros(Batch, Hidden);
        dcPrevT = device.Zeros(Batch, Hidden);
        scratchT = [.. Enumerable.Range(0, 8).Select(_ => device.Zeros(Batch, Hidden))];
        unfused = new UnfusedIlgpuKernels(FusedKernelBenchmarks.Ilgpu(device).Accelerator);
    }

    private static float[] Read(Tensor? tensor, float* host, int length) => tensor?.ToArray() ?? new ReadOnlySpan<float>(host, length).ToArray();

    private static void Write(Tensor? tensor, float* host, float[] values)
    {
        if (tensor is null)
        {
            values.CopyTo(new Span<float>(host, values.Length));
        }
        else
        {
            tensor.CopyFrom(values);
        }
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn("Mcells/s", bc => ThroughputColumn.Parameter(bc, nameof(Batch)) * (double)ThroughputColumn.Parameter(bc, nameof(Hidden)) / 1e6));
            AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        }
    }
}
