using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Kernels.Reference;
using static Tensorlet.Bench.FusedKernelBenchmarks;

namespace Tensorlet.Bench;

/// <summary>
/// What fusion buys: the fused LSTM cell (forward and backward) and the fused softmax cross-entropy against the
/// same maths as separate elementwise passes, the way an eager framework runs them (one sweep over memory per
/// operation). On <c>cpu</c> the kernels run on arrays, on one thread and on all cores; the unfused passes are plain
/// Vector512 loops (scalar without AVX-512) on one thread. On <c>cuda</c> (when present) both run as ILGPU kernels.
/// Every variant is checked against the float64 reference in [GlobalSetup] before anything is timed.
/// Devices: <c>cpu</c> and <c>cuda</c> when present, or the comma-separated list in TENSORLET_BENCH_DEVICES
/// (<c>ilgpu-cpu</c> works there too, slowly, to check the ILGPU path without a GPU).
/// </summary>
public static class FusedKernelBenchmarks
{
    /// <summary>The devices to run on.</summary>
    public static IEnumerable<string> Devices()
    {
        var configured = Environment.GetEnvironmentVariable("TENSORLET_BENCH_DEVICES");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        return Device.IsCudaAvailable ? ["cpu", "cuda"] : ["cpu"];
    }

    /// <summary>Throws unless every |actual − expected| ≤ 1e-4 + 1e-4·|expected| (the kernel tests' bound).</summary>
    public static void Validate(string what, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= 1e-4 + (1e-4 * Math.Abs(expected[i]))))
            {
                throw new InvalidOperationException($"{what}[{i}] = {actual[i]} but the float64 reference says {expected[i]}: not timing a wrong kernel.");
            }
        }
    }

    public static float[] Uniform(Random rng, int n, double scale)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = (float)(((rng.NextDouble() * 2) - 1) * scale);
        }

        return values;
    }

    public static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);

    internal static IlgpuBackend Ilgpu(Device device) => (IlgpuBackend)device.Backend;

    /// <summary>One elementwise operation, as a Vector512 and as a scalar; the passes below are generic over it.</summary>
    internal interface IElementwiseOp
    {
        static abstract Vector512<float> Apply(Vector512<float> a, Vector512<float> b);

        static abstract float Apply(float a, float b);
    }

    internal readonly struct SigmoidOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-a));

        public static float Apply(float a, float b) => 1f / (1f + MathF.Exp(-a));
    }

    internal readonly struct TanhOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => Vector512<float>.One - (Vector512.Create(2f) / (Vector512<float>.One + Vector512.Exp(a + a)));

        public static float Apply(float a, float b) => 1f - (2f / (1f + MathF.Exp(a + a)));
    }

    internal readonly struct LogOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => Vector512.Log(a);

        public static float Apply(float a, float b) => MathF.Log(a);
    }

    internal readonly struct OneMinusSquareOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => Vector512<float>.One - (a * a);

        public static float Apply(float a, float b) => 1f - (a * a);
    }

    internal readonly struct MultiplyOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => a * b;

        public static float Apply(float a, float b) => a * b;
    }

    internal readonly struct AddOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => a + b;

        public static float Apply(float a, float b) => a + b;
    }

    /// <summary>d·y·(1 − y), with y = σ(x) saved: a is y, b is d.</summary>
    internal readonly struct SigmoidBackwardOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => b * a * (Vector512<float>.One - a);

        public static float Apply(float a, float b) => b * a * (1f - a);
    }

    /// <summary>d·(1 − y²), with y = tanh(x) saved: a is y, b is d.</summary>
    internal readonly struct TanhBackwardOp : IElementwiseOp
    {
        public static Vector512<float> Apply(Vector512<float> a, Vector512<float> b) => b * (Vector512<float>.One - (a * a));

        public static float Apply(float a, float b) => b * (1f - (a * a));
    }

    /// <summary>The unfused baseline: one sweep over [rows, cols] (with row strides) per operation, single-threaded.</summary>
    internal static unsafe class ElementwisePasses
    {
        public static void Map<TOp>(float* x, int xStride, float* y, int yStride, int rows, int cols)
            where TOp : struct, IElementwiseOp
            => Zip<TOp>(x, xStride, x, xStride, y, yStride, rows, cols);

        public static void Zip<TOp>(float* a, int aStride, float* b, int bStride, float* y, int yStride, int rows, int cols)
            where TOp : struct, IElementwiseOp
        {
            for (int r = 0; r < rows; r++)
            {
                float* ar = a + ((long)r * aStride), br = b + ((long)r * bStride), yr = y + ((long)r * yStride);
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    for (; j <= cols - Vector512<float>.Count; j += Vector512<float>.Count)
                    {
                        TOp.Apply(Vector512.Load(ar + j), Vector512.Load(br + j)).Store(yr + j);
                    }
                }

                for (; j < cols; j++)
                {
                    yr[j] = TOp.Apply(ar[j], br[j]);
                }
            }
        }

        public static float Max(float* x, int n)
        {
            float max = float.NegativeInfinity;
            int j = 0;
            if (Vector512.IsHardwareAccelerated && n >= Vector512<float>.Count)
            {
                var acc = Vector512.Load(x);
                for (j = Vector512<float>.Count; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    acc = Vector512.Max(acc, Vector512.Load(x + j));
                }

                for (int k = 0; k < Vector512<float>.Count; k++)
                {
                    max = MathF.Max(max, acc[k]);
                }
            }

            for (; j < n; j++)
            {
                max = MathF.Max(max, x[j]);
            }

            return max;
        }

        public static float ExpShiftedSum(float* x, float shift, float* y, int n)
        {
            float sum = 0;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var acc = Vector512<float>.Zero;
                var s = Vector512.Create(shift);
                for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    var e = Vector512.Exp(Vector512.Load(x + j) - s);
                    e.Store(y + j);
                    acc += e;
                }

                sum = Vector512.Sum(acc);
            }

            for (; j < n; j++)
            {
                y[j] = MathF.Exp(x[j] - shift);
                sum += y[j];
            }

            return sum;
        }

        public static void Scale(float* x, float factor, float* y, int n)
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var f = Vector512.Create(factor);
                for (; j <= n - Vector512<float>.Count; j += Vector512<float>.Count)
                {
                    (Vector512.Load(x + j) * f).Store(y + j);
                }
            }

            for (; j < n; j++)
            {
                y[j] = x[j] * factor;
            }
        }
    }

    /// <summary>The unfused baseline on an ILGPU accelerator: one small kernel launch per elementwise operation.</summary>
    internal sealed class UnfusedIlgpuKernels
    {
        private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int> zip;
        private readonly Action<Index1D, ArrayView<float>, int> rowSoftmax;
        private readonly Action<Index1D, ArrayView<float>, ArrayView<float>> log;
        private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int> gather;
        private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float> gradient;

        public UnfusedIlgpuKernels(Accelerator accelerator)
        {
            zip = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(ZipKernel);
            rowSoftmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int>(RowSoftmaxKernel);
            log = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(LogKernel);
            gather = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int>(GatherKernel);
            gradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float>(GradientKernel);
        }

        private enum Op
        {
            Sigmoid,
            Tanh,
            OneMinusSquare,
            Multiply,
            Add,
            SigmoidBackward,
            TanhBackward,
        }

        public void Forward(Tensor pre, Tensor cPrev, Tensor gates, Tensor c, Tensor h, Tensor[] scratch, int batch, int hidden)
        {
            int n = hidden, w = 4 * hidden;
            ArrayView<float> p = pre.View, g = gates.View, t = scratch[0].View;
            for (int k = 0; k < 4; k++)
            {
                Zip(k == 2 ? Op.Tanh : Op.Sigmoid, p.SubView(k * n), w, p.SubView(k * n), w, g.SubView(k * n), w, batch, n);
            }

            Zip(Op.Multiply, g.SubView(n), w, cPrev.View, n, c.View, n, batch, n);
            Zip(Op.Multiply, g, w, g.SubView(2 * n), w, t, n, batch, n);
            Zip(Op.Add, c.View, n, t, n, c.View, n, batch, n);
            Zip(Op.Tanh, c.View, n, c.View, n, t, n, batch, n);
            Zip(Op.Multiply, g.SubView(3 * n), w, t, n, h.View, n, batch, n);
        }

        public void Backward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPre, Tensor dcPrev, Tensor[] scratch, int batch, int hidden)
        {
            int n = hidden, w = 4 * hidden;
            ArrayView<float> g = gates.View, d = dPre.View;
            ArrayView<float> tc = scratch[0].View, t1 = scratch[1].View, t2 = scratch[2].View, dc = scratch[3].View;
            ArrayView<float> dI = scratch[4].View, dF = scratch[5].View, dG = scratch[6].View, dO = scratch[7].View;
            Zip(Op.Tanh, c.View, n, c.View, n, tc, n, batch, n);
            Zip(Op.Multiply, dh.View, n, tc, n, dO, n, batch, n);
            Zip(Op.OneMinusSquare, tc, n, tc, n, t1, n, batch, n);
            Zip(Op.Multiply, dh.View, n, g.SubView(3 * n), w, t2, n, batch, n);
            Zip(Op.Multiply, t2, n, t1, n, t2, n, batch, n);
            Zip(Op.Add, dcNext.View, n, t2, n, dc, n, batch, n);
            Zip(Op.Multiply, dc, n, g.SubView(2 * n), w, dI, n, batch, n);
            Zip(Op.Multiply, dc, n, cPrev.View, n, dF, n, batch, n);
            Zip(Op.Multiply, dc, n, g, w, dG, n, batch, n);
            Zip(Op.Multiply, dc, n, g.SubView(n), w, dcPrev.View, n, batch, n);
            Zip(Op.SigmoidBackward, g, w, dI, n, d, w, batch, n);
            Zip(Op.SigmoidBackward, g.SubView(n), w, dF, n, d.SubView(n), w, batch, n);
            Zip(Op.TanhBackward, g.SubView(2 * n), w, dG, n, d.SubView(2 * n), w, batch, n);
            Zip(Op.SigmoidBackward, g.SubView(3 * n), w, dO, n, d.SubView(3 * n), w, batch, n);
        }

        public void SoftmaxCrossEntropy(
            Tensor logits, IndexTensor targets, Tensor probabilities, Tensor logProbabilities, Tensor losses, Tensor dLogits, int rows, int classes, float gradScale)
        {
            Copy(logits, probabilities);
            rowSoftmax(rows, probabilities.View, classes);
            log(rows * classes, probabilities.View, logProbabilities.View);
            gather(rows, logProbabilities.View, targets.View, losses.View, classes);
            Copy(probabilities, dLogits);
            gradient(rows * classes, dLogits.View, targets.View, dLogits.View, classes, gradScale);
        }

        private static void Copy(Tensor source, Tensor destination) => source.View.CopyTo(destination.View);

        private void Zip(Op op, ArrayView<float> a, int aStride, ArrayView<float> b, int bStride, ArrayView<float> y, int yStride, int rows, int cols)
            => zip(rows * cols, a, b, y, aStride, bStride, yStride, cols, (int)op);

        private static void ZipKernel(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int aStride, int bStride, int yStride, int cols, int op)
        {
            int r = index / cols;
            int j = index - (r * cols);
            float x = a[(r * aStride) + j];
            float z = b[(r * bStride) + j];
            float result = op switch
            {
                0 => 1f / (1f + XMath.Exp(-x)),
                1 => XMath.Tanh(x),
                2 => 1f - (x * x),
                3 => x * z,
                4 => x + z,
                5 => z * x * (1f - x),
                _ => z * (1f - (x * x)),
            };
            y[(r * yStride) + j] = result;
        }

        // One thread per row: the straightforward softmax, in place.
        private static void RowSoftmaxKernel(Index1D row, ArrayView<float> x, int classes)
        {
            long start = (long)(int)row * classes;
            float max = float.NegativeInfinity;
            for (int k = 0; k < classes; k++)
            {
                max = XMath.Max(max, x[start + k]);
            }

            float sum = 0f;
            for (int k = 0; k < classes; k++)
            {
                float e = XMath.Exp(x[start + k] - max);
                x[start + k] = e;
                sum += e;
            }

            for (int k = 0; k < classes; k++)
            {
                x[start + k] /= sum;
            }
        }

        private static void LogKernel(Index1D index, ArrayView<float> x, ArrayView<float> y) => y[index] = XMath.Log(x[index]);

        private static void GatherKernel(Index1D row, ArrayView<float> logP, ArrayView<int> targets, ArrayView<float> losses, int classes)
            => losses[row] = -logP[((long)(int)row * classes) + targets[row]];

        private static void GradientKernel(Index1D index, ArrayView<float> p, ArrayView<int> targets, ArrayView<float> d, int classes, float gradScale)
        {
            int row = index / classes;
            int k = index - (row * classes);
            d[index] = (p[index] - (k == targets[row] ? 1f : 0f)) * gradScale;
        }
    }
}

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
        ElementwisePasses.Map<SigmoidOp>(pPre, w, gates, w, b, n);
        ElementwisePasses.Map<SigmoidOp>(pPre + n, w, gates + n, w, b, n);
        ElementwisePasses.Map<TanhOp>(pPre + (2 * n), w, gates + (2 * n), w, b, n);
        ElementwisePasses.Map<SigmoidOp>(pPre + (3 * n), w, gates + (3 * n), w, b, n);
        ElementwisePasses.Zip<MultiplyOp>(gates + n, w, pCPrev, n, c, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(gates, w, gates + (2 * n), w, t1, n, b, n);
        ElementwisePasses.Zip<AddOp>(c, n, t1, n, c, n, b, n);
        ElementwisePasses.Map<TanhOp>(c, n, t1, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(gates + (3 * n), w, t1, n, h, n, b, n);
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
        CpuLstmCell.Forward(pre, cPrev, new Span<float>(gates, 4 * narrow), new Span<float>(c, narrow), new Span<float>(h, narrow), Batch, Hidden, 1);
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
            pre, cPrev, new Span<float>(gates, 4 * narrow), new Span<float>(c, narrow), new Span<float>(h, narrow), Batch, Hidden, Environment.ProcessorCount);
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
        ElementwisePasses.Map<TanhOp>(c, n, tc, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(pDh, n, tc, n, dO, n, b, n);
        ElementwisePasses.Map<OneMinusSquareOp>(tc, n, t1, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(pDh, n, o, w, t2, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(t2, n, t1, n, t2, n, b, n);
        ElementwisePasses.Zip<AddOp>(pDcNext, n, t2, n, dc, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(dc, n, g, w, dI, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(dc, n, pCPrev, n, dF, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(dc, n, i, w, dG, n, b, n);
        ElementwisePasses.Zip<MultiplyOp>(dc, n, f, w, dcPrev, n, b, n);
        ElementwisePasses.Zip<SigmoidBackwardOp>(i, w, dI, n, dPre, w, b, n);
        ElementwisePasses.Zip<SigmoidBackwardOp>(f, w, dF, n, dPre + n, w, b, n);
        ElementwisePasses.Zip<TanhBackwardOp>(g, w, dG, n, dPre + (2 * n), w, b, n);
        ElementwisePasses.Zip<SigmoidBackwardOp>(o, w, dO, n, dPre + (3 * n), w, b, n);
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
            new ReadOnlySpan<float>(gates, 4 * narrow), new ReadOnlySpan<float>(c, narrow), cPrev, dh, dcNext, new Span<float>(dPre, 4 * narrow), new Span<float>(dcPrev, narrow), Batch, Hidden, 1);
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
            Environment.ProcessorCount);
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
                float max = ElementwisePasses.Max(row, v);
                float sum = ElementwisePasses.ExpShiftedSum(row, max, pRow, v);
                ElementwisePasses.Scale(pRow, 1f / sum, pRow, v);
            }

            long all = (long)Rows * v;
            ElementwisePasses.Map<LogOp>(p, (int)all, logP, (int)all, 1, (int)all);
            for (int r = 0; r < Rows; r++)
            {
                l[r] = -logP[((long)r * v) + targets[r]];
            }

            ElementwisePasses.Scale(p, GradScale, d, (int)all);
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

        CpuSoftmax.CrossEntropy(logits, targets, losses, dLogits, Rows, Classes, GradScale, 1);
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

        CpuSoftmax.CrossEntropy(logits, targets, losses, dLogits, Rows, Classes, GradScale, Environment.ProcessorCount);
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
