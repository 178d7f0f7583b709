using System.Diagnostics;
using Tensorlet.Backends;
using Tensorlet.Kernels;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// A kernel decorator (<see cref="KernelBackendDecorator{TMark}"/>) that times every call to the device's own backend,
/// waiting for the device after each kernel so the time is the kernel's own (on <c>cpu</c> kernels are synchronous anyway).
/// Put in front of a <see cref="Device"/>'s kernels through the device's interception seam (<see cref="Install"/>), so the
/// library runs its real code path — Lstm, Linear, Adam — unchanged.
/// GEMMs are recorded per shape and operand layout, with their FLOPs; other kernels per name.
/// </summary>
internal sealed class ProfilingBackend(IKernelBackend inner) : KernelBackendDecorator<ProfilingBackend.Mark>(inner)
{
    private readonly Dictionary<GemmShape, KernelTime> gemms = [];
    private readonly Dictionary<string, KernelTime> kernels = [];
    private readonly ThreadCpuClocks cpu = new();
    private bool recording;

    /// <summary>Whether calls are being recorded (off during warm-up). Turning it on takes the list of threads whose CPU time counts.</summary>
    public bool Recording
    {
        get => recording;
        set
        {
            if (value && !recording)
            {
                cpu.Refresh();
            }

            recording = value;
        }
    }

    /// <summary>The process's CPU seconds so far, as the kernel records read it (<see cref="ThreadCpuClocks"/>).</summary>
    public double CpuSeconds() => cpu.Seconds();

    /// <summary>The GEMMs recorded so far, by shape.</summary>
    public IReadOnlyDictionary<GemmShape, KernelTime> Gemms => gemms;

    /// <summary>The other kernels recorded so far, by name.</summary>
    public IReadOnlyDictionary<string, KernelTime> Kernels => kernels;

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
    public override void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta)
    {
        var t0 = Begin();
        Inner.Gemm(a, transposeA, b, transposeB, c, m, n, k, alpha, beta);
        Record(t0, new GemmShape(transposeA, transposeB, m, n, k, beta != 0f));
    }

    /// <inheritdoc/>
    /// <remarks>Recorded as one GEMM [m×(n1+n2)×k], the work it does.</remarks>
    public override void GemmSharedA(Tensor a, bool transposeA, Tensor b1, Tensor c1, Tensor b2, Tensor c2, int m, int n1, int n2, int k, float alpha, float beta)
    {
        var t0 = Begin();
        Inner.GemmSharedA(a, transposeA, b1, c1, b2, c2, m, n1, n2, k, alpha, beta);
        Record(t0, new GemmShape(transposeA, false, m, n1 + n2, k, beta != 0f));
    }

    /// <inheritdoc/>
    /// <remarks>Managed bytes are counted over all threads (precise), so what a kernel's worker threads allocate counts too.</remarks>
    protected override Mark Begin() => Recording ? Mark.Now(cpu) : default;

    /// <inheritdoc/>
    protected override void End(string kernel, Mark t0)
    {
        if (!Recording)
        {
            return;
        }

        Inner.Synchronize();
        var end = Mark.Now(cpu);
        if (!kernels.TryGetValue(kernel, out var time))
        {
            kernels[kernel] = time = new KernelTime();
        }

        time.Add(t0, end, 0);
    }

    /// <summary>Adds a GEMM call that started at <paramref name="t0"/>, under its shape, when recording.</summary>
    private void Record(Mark t0, GemmShape shape)
    {
        if (!Recording)
        {
            return;
        }

        Inner.Synchronize();
        var end = Mark.Now(cpu);
        if (!gemms.TryGetValue(shape, out var time))
        {
            gemms[shape] = time = new KernelTime();
        }

        time.Add(t0, end, 2.0 * shape.M * shape.N * shape.K);
    }

    /// <summary>When a kernel call started: timestamp, process CPU seconds and managed bytes allocated so far.</summary>
    internal readonly record struct Mark(long Timestamp, double CpuSeconds, long AllocatedBytes)
    {
        /// <summary>The clock, the process's CPU time (its threads' clocks) and the managed bytes allocated so far.</summary>
        public static Mark Now(ThreadCpuClocks cpu) => new(Stopwatch.GetTimestamp(), cpu.Seconds(), GC.GetTotalAllocatedBytes(precise: true));
    }

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

        /// <summary>
        /// Adds one call from <paramref name="start"/> to <paramref name="end"/>. The caller takes the end mark as soon as the
        /// device has synchronized, before it looks this record up: the first lookup of a shape or kernel (a dictionary
        /// insert, and code run for the first time) took up to 2.6 ms, which the call that happened to be first was
        /// charged, and its allocations with it.
        /// </summary>
        public void Add(Mark start, Mark end, double flops)
        {
            Calls++;
            Ticks += end.Timestamp - start.Timestamp;
            CpuSeconds += end.CpuSeconds - start.CpuSeconds;
            AllocatedBytes += end.AllocatedBytes - start.AllocatedBytes;
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
