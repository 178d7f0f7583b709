using System.Diagnostics;
using Tensorlet.Backends;
using Tensorlet.Kernels;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// A kernel backend that forwards every call to the device's own backend and times it, waiting for the
/// device after each kernel so the time is the kernel's own (on <c>cpu</c> kernels are synchronous anyway).
/// Put in front of a <see cref="Device"/>'s kernels through the device's interception seam (<see cref="Install"/>), so the
/// library runs its real code path — Lstm, Linear, Adam — unchanged.
/// GEMMs are recorded per shape and operand layout, with their FLOPs; other kernels per name.
/// </summary>
internal sealed class ProfilingBackend(IKernelBackend inner) : IKernelBackend
{
    private readonly Dictionary<GemmShape, KernelTime> gemms = [];
    private readonly Dictionary<string, KernelTime> kernels = [];

    /// <summary>Whether calls are being recorded (off during warm-up).</summary>
    public bool Recording { get; set; }

    /// <summary>The GEMMs recorded so far, by shape.</summary>
    public IReadOnlyDictionary<GemmShape, KernelTime> Gemms => gemms;

    /// <summary>The other kernels recorded so far, by name.</summary>
    public IReadOnlyDictionary<string, KernelTime> Kernels => kernels;

    /// <inheritdoc/>
    public string Description => inner.Description;

    /// <summary>
    /// Puts a profiling backend in front of <paramref name="device"/>'s kernels until <paramref name="scope"/> is disposed
    /// (<see cref="Device.InterceptKernels"/>).
    /// </summary>
    public static ProfilingBackend Install(Device device, out IDisposable scope)
    {
        ProfilingBackend? profiler = null;
        scope = device.InterceptKernels(inner => profiler = new ProfilingBackend(inner));
        return profiler!;
    }

    /// <summary>Forgets what was recorded.</summary>
    public void Clear()
    {
        gemms.Clear();
        kernels.Clear();
    }

    /// <inheritdoc/>
    public Storage<T> Allocate<T>(long length)
        where T : unmanaged => inner.Allocate<T>(length);

    /// <inheritdoc/>
    public void Synchronize() => inner.Synchronize();

    /// <inheritdoc/>
    public void Fill(Tensor x, float value)
    {
        var t0 = Begin();
        inner.Fill(x, value);
        Done(nameof(Fill), t0);
    }

    /// <inheritdoc/>
    public void Copy(Tensor source, Tensor destination)
    {
        var t0 = Begin();
        inner.Copy(source, destination);
        Done(nameof(Copy), t0);
    }

    /// <inheritdoc/>
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta)
    {
        var t0 = Begin();
        inner.Gemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
        if (Recording)
        {
            inner.Synchronize();
            var shape = new GemmShape(transposeA, transposeB, m, n, k, beta != 0f);
            if (!gemms.TryGetValue(shape, out var time))
            {
                gemms[shape] = time = new KernelTime();
            }

            time.Add(t0, 2.0 * m * n * k);
        }
    }

    /// <inheritdoc/>
    public void GatherColumns(Tensor weight, IndexTensor indices, Tensor output)
    {
        var t0 = Begin();
        inner.GatherColumns(weight, indices, output);
        Done(nameof(GatherColumns), t0);
    }

    /// <inheritdoc/>
    public void ScatterAddColumns(Tensor gradOutput, IndexTensor indices, Tensor gradWeight)
    {
        var t0 = Begin();
        inner.ScatterAddColumns(gradOutput, indices, gradWeight);
        Done(nameof(ScatterAddColumns), t0);
    }

    /// <inheritdoc/>
    public void AddBias(Tensor x, Tensor bias)
    {
        var t0 = Begin();
        inner.AddBias(x, bias);
        Done(nameof(AddBias), t0);
    }

    /// <inheritdoc/>
    public void SumColumns(Tensor x, Tensor result, bool accumulate)
    {
        var t0 = Begin();
        inner.SumColumns(x, result, accumulate);
        Done(nameof(SumColumns), t0);
    }

    /// <inheritdoc/>
    public void LstmCellForward(Tensor preactivations, Tensor cPrev, Tensor gates, Tensor c, Tensor h)
    {
        var t0 = Begin();
        inner.LstmCellForward(preactivations, cPrev, gates, c, h);
        Done(nameof(LstmCellForward), t0);
    }

    /// <inheritdoc/>
    public void LstmCellBackward(Tensor gates, Tensor c, Tensor cPrev, Tensor dh, Tensor dcNext, Tensor dPreactivations, Tensor dcPrev)
    {
        var t0 = Begin();
        inner.LstmCellBackward(gates, c, cPrev, dh, dcNext, dPreactivations, dcPrev);
        Done(nameof(LstmCellBackward), t0);
    }

    /// <inheritdoc/>
    public bool TryLstmRecurrenceForward(Tensor gates, Tensor cells, Tensor hidden, Tensor h0, Tensor c0, bool hasInitialHidden, Tensor weightHh, int steps, int batch)
    {
        var t0 = Begin();
        return DoneIf("LstmRecurrenceForward", t0, inner.TryLstmRecurrenceForward(gates, cells, hidden, h0, c0, hasInitialHidden, weightHh, steps, batch));
    }

    /// <inheritdoc/>
    public bool TryLstmRecurrenceBackward(Tensor gates, Tensor cells, Tensor c0, Tensor dH, Tensor dc, Tensor dPre, Tensor weightHh, int steps, int batch)
    {
        var t0 = Begin();
        return DoneIf("LstmRecurrenceBackward", t0, inner.TryLstmRecurrenceBackward(gates, cells, c0, dH, dc, dPre, weightHh, steps, batch));
    }

    /// <inheritdoc/>
    public void SoftmaxCrossEntropy(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, float gradScale)
    {
        var t0 = Begin();
        inner.SoftmaxCrossEntropy(logits, targets, losses, dLogits, gradScale);
        Done(nameof(SoftmaxCrossEntropy), t0);
    }

    /// <inheritdoc/>
    public void ActivationForward(Activation activation, Tensor x, Tensor y)
    {
        var t0 = Begin();
        inner.ActivationForward(activation, x, y);
        Done(nameof(ActivationForward), t0);
    }

    /// <inheritdoc/>
    public void ActivationBackward(Activation activation, Tensor y, Tensor dy, Tensor dx)
    {
        var t0 = Begin();
        inner.ActivationBackward(activation, y, dy, dx);
        Done(nameof(ActivationBackward), t0);
    }

    /// <inheritdoc/>
    public void Dropout(Tensor x, Tensor y, float p, ulong seed, ulong stream)
    {
        var t0 = Begin();
        inner.Dropout(x, y, p, seed, stream);
        Done(nameof(Dropout), t0);
    }

    /// <inheritdoc/>
    public void AdamStep(Tensor parameters, Tensor gradients, Tensor m, Tensor v, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, int step)
    {
        var t0 = Begin();
        inner.AdamStep(parameters, gradients, m, v, learningRate, beta1, beta2, epsilon, weightDecay, step);
        Done(nameof(AdamStep), t0);
    }

    /// <inheritdoc/>
    public double SumOfSquares(Tensor x)
    {
        var t0 = Begin();
        double result = inner.SumOfSquares(x);
        Done(nameof(SumOfSquares), t0);
        return result;
    }

    /// <inheritdoc/>
    public void Scale(Tensor x, float alpha)
    {
        var t0 = Begin();
        inner.Scale(x, alpha);
        Done(nameof(Scale), t0);
    }

    /// <inheritdoc/>
    public void SoftmaxWithTemperature(Tensor logits, Tensor probabilities, float temperature)
    {
        var t0 = Begin();
        inner.SoftmaxWithTemperature(logits, probabilities, temperature);
        Done(nameof(SoftmaxWithTemperature), t0);
    }

    /// <summary>Disposes the inner backend: the device disposes its backend, which is this one once installed.</summary>
    public void Dispose() => inner.Dispose();

    // Managed bytes are counted over all threads (precise), so what a kernel's worker threads allocate counts too.
    private Mark Begin() => Recording ? new Mark(Stopwatch.GetTimestamp(), ProcessCpuTime.Seconds(), GC.GetTotalAllocatedBytes(precise: true)) : default;

    /// <summary>Records a Try… kernel only when the backend ran it (false means the caller falls back to the step-by-step kernels).</summary>
    private bool DoneIf(string kernel, Mark t0, bool ran)
    {
        if (ran)
        {
            Done(kernel, t0);
        }

        return ran;
    }

    private void Done(string kernel, Mark t0)
    {
        if (!Recording)
        {
            return;
        }

        inner.Synchronize();
        if (!kernels.TryGetValue(kernel, out var time))
        {
            kernels[kernel] = time = new KernelTime();
        }

        time.Add(t0, 0);
    }

    /// <summary>When a kernel call started: timestamp, process CPU seconds and managed bytes allocated so far.</summary>
    internal readonly record struct Mark(long Timestamp, double CpuSeconds, long AllocatedBytes);

    /// <summary>A GEMM's operand layout and sizes: C[m,n] (+)= op(A)[m,k]·op(B)[k,n].</summary>
    internal readonly record struct GemmShape(bool TransposeA, bool TransposeB, int M, int N, int K, bool Accumulate)
    {
        /// <summary>E.g. <c>A·Bᵀ [100×1024×256] +=</c>.</summary>
        public override string ToString()
            => $"{(TransposeA ? "Aᵀ" : "A")}·{(TransposeB ? "Bᵀ" : "B")} [{M}×{N}×{K}]{(Accumulate ? " +=" : string.Empty)}";
    }

    /// <summary>Accumulated calls, time and FLOPs of one kernel.</summary>
    internal sealed class KernelTime
    {
        /// <summary>Calls recorded.</summary>
        public long Calls { get; private set; }

        /// <summary>Stopwatch ticks spent.</summary>
        public long Ticks { get; private set; }

        /// <summary>FLOPs done (GEMMs only).</summary>
        public double Flops { get; private set; }

        /// <summary>Process CPU seconds during the calls (all threads, spinning included).</summary>
        public double CpuSeconds { get; private set; }

        /// <summary>Managed bytes allocated during the calls (all threads).</summary>
        public long AllocatedBytes { get; private set; }

        /// <summary>Seconds spent.</summary>
        public double Seconds => (double)Ticks / Stopwatch.Frequency;

        /// <summary>Adds one call that started at <paramref name="start"/> and ends now.</summary>
        public void Add(Mark start, double flops)
        {
            Calls++;
            Ticks += Stopwatch.GetTimestamp() - start.Timestamp;
            CpuSeconds += ProcessCpuTime.Seconds() - start.CpuSeconds;
            AllocatedBytes += GC.GetTotalAllocatedBytes(precise: true) - start.AllocatedBytes;
            Flops += flops;
        }

        /// <summary>Adds another kernel's totals.</summary>
        public void Merge(KernelTime other)
        {
            Calls += other.Calls;
            Ticks += other.Ticks;
            Flops += other.Flops;
            CpuSeconds += other.CpuSeconds;
            AllocatedBytes += other.AllocatedBytes;
        }
    }
}
