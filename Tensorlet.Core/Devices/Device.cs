using Tensorlet.Backends;
using Tensorlet.Backends.Cpu;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels;

namespace Tensorlet;

/// <summary>
/// A compute device: <c>cpu</c> (Tensorlet's SIMD kernels), <c>cuda</c> (ILGPU on an NVIDIA GPU),
/// <c>ilgpu-cpu</c> (the same ILGPU kernels on ILGPU's CPU accelerator) or <c>auto</c>
/// (cuda when present, else cpu). A device owns its kernels, which are loaded once and cached,
/// and every tensor allocated on it. Dispose the device after its tensors.
/// </summary>
public sealed class Device : IDisposable
{
    /// <summary>The device names accepted by <see cref="Create(string, int)"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cpu", "cuda", "ilgpu-cpu"];

    private bool disposed;
    private long allocationCount;
    private long allocatedBytes;
    private long hostCopyCount;

    // The device's own kernels, which it disposes; Backend is this or a decorator in front of it (InterceptKernels).
    private readonly IKernelBackend ownBackend;

    private Device(DeviceKind kind, string name, IKernelBackend backend)
    {
        Kind = kind;
        Name = name;
        ownBackend = backend;
        Backend = backend;
    }

    /// <summary>The kind of device.</summary>
    public DeviceKind Kind { get; }

    /// <summary>The device's name as a user writes it (<c>cpu</c>, <c>cuda</c>, <c>ilgpu-cpu</c>).</summary>
    public string Name { get; }

    /// <summary>A one-line description of the hardware behind the device.</summary>
    public string Description => Backend.Description;

    /// <summary>How many buffers have been allocated on this device since it was created. Steady-state training leaves it unchanged.</summary>
    public long AllocationCount => Interlocked.Read(ref allocationCount);

    /// <summary>How many bytes are currently allocated on this device.</summary>
    public long AllocatedBytes => Interlocked.Read(ref allocatedBytes);

    /// <summary>How many times a tensor on this device has been copied to host memory, each a wait for its queued kernels.</summary>
    internal long HostCopyCount => Interlocked.Read(ref hostCopyCount);

    /// <summary>The kernels every op calls: the device's own, or the decorator <see cref="InterceptKernels"/> put in front of them.</summary>
    internal IKernelBackend Backend { get; private set; }

    /// <summary>Whether a CUDA GPU usable by ILGPU is present (checked once per process).</summary>
    public static bool IsCudaAvailable => CudaProbe.Get().Problem is null;

    /// <summary>The device names that can be created on this machine.</summary>
    public static IReadOnlyList<string> AvailableNames()
        => IsCudaAvailable ? ["auto", "cpu", "cuda", "ilgpu-cpu"] : ["auto", "cpu", "ilgpu-cpu"];

    /// <summary>
    /// Creates a device by name.
    /// </summary>
    /// <param name="name"><c>auto</c>, <c>cpu</c>, <c>cuda</c> or <c>ilgpu-cpu</c>.</param>
    /// <param name="threads">For <c>cpu</c>: how many threads the kernels use; 0 means one per physical core the process may
    /// run on (hardware threads of one core share its FMA units and caches). More than the logical CPUs is that many: the
    /// kernels' thread team has no more.</param>
    /// <exception cref="DeviceNotAvailableException">The name is unknown or the device is not present, or, for <c>cpu</c>,
    /// <c>TENSORLET_CPU_VECTOR</c>, <c>TENSORLET_CPU_RECURRENCE</c> or <c>TENSORLET_CPU_HUGE_PAGES</c> asks for what this
    /// machine cannot run.</exception>
    public static Device Create(string name, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentChecks.ThrowIfNegative(threads);
        var normalized = name.Trim().ToLowerInvariant();
        switch (normalized)
        {
            case "cpu":
                return new Device(DeviceKind.Cpu, "cpu", new CpuBackend(CpuThreads(threads), ConfiguredCpuPlan()));
            case "cuda":
                if (CudaProbe.Get().Problem is { } problem)
                {
                    throw new DeviceNotAvailableException(
                        $"Device 'cuda' is not available: {problem}. Available devices: {string.Join(", ", AvailableNames())}.");
                }

                return new Device(DeviceKind.Cuda, "cuda", IlgpuBackend.CreateCuda());
            case "ilgpu-cpu":
                return new Device(DeviceKind.IlgpuCpu, "ilgpu-cpu", IlgpuBackend.CreateCpu());
            case "auto":
                return Create(IsCudaAvailable ? "cuda" : "cpu", threads);
            default:
                throw new DeviceNotAvailableException(
                    $"Unknown device '{name}'. Known devices: {string.Join(", ", Names)}; available here: {string.Join(", ", AvailableNames())}.");
        }
    }

    // The process's CPU plan, or the one line that says which of its environment variables cannot be honoured here.
    private static Kernels.Cpu.CpuKernelPlan ConfiguredCpuPlan()
    {
        try
        {
            return Kernels.Cpu.CpuKernelPlan.Machine;
        }
        catch (ArgumentException e)
        {
            throw new DeviceNotAvailableException($"Device 'cpu' cannot run as configured: {e.Message}");
        }
    }

    /// <summary>A <c>cpu</c> device whose kernels run with <paramref name="plan"/> instead of this process's (tests and benchmarks compare plans).</summary>
    internal static Device CreateCpu(int threads, Kernels.Cpu.CpuKernelPlan plan)
    {
        ArgumentChecks.ThrowIfNegative(threads);
        return new Device(DeviceKind.Cpu, "cpu", new CpuBackend(CpuThreads(threads), plan));
    }

    // The threads a cpu device runs on: 0 is one per physical core; a count is capped at what the thread team has, so
    // that the work is not cut into more parts than run at once, and the device says how many threads really run.
    private static int CpuThreads(int threads)
        => threads == 0 ? Kernels.Cpu.CpuCores.Machine : Math.Min(threads, Kernels.Cpu.CpuThreadTeam.MaxThreads);

    /// <summary>Allocates a zero-filled float32 tensor.</summary>
    public Tensor Zeros(params int[] shape)
    {
        var checkedShape = Tensor.CheckShape(shape);
        return new Tensor(this, Allocate<float>(Tensor.ElementCount(checkedShape)), 0, checkedShape);
    }

    /// <summary>Allocates a float32 tensor holding a copy of <paramref name="data"/>.</summary>
    public Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        var tensor = Zeros(shape);
        tensor.CopyFrom(data);
        return tensor;
    }

    /// <summary>Allocates a zero-filled int32 index tensor.</summary>
    public IndexTensor IndexZeros(params int[] shape)
    {
        var checkedShape = Tensor.CheckShape(shape);
        return new IndexTensor(this, Allocate<int>(Tensor.ElementCount(checkedShape)), checkedShape);
    }

    /// <summary>Allocates an int32 index tensor holding a copy of <paramref name="data"/>.</summary>
    public IndexTensor IndexFromArray(ReadOnlySpan<int> data, params int[] shape)
    {
        var tensor = IndexZeros(shape);
        tensor.CopyFrom(data);
        return tensor;
    }

    /// <summary>Waits until every queued kernel on this device has finished.</summary>
    public void Synchronize()
    {
        ThrowIfDisposed();
        Backend.Synchronize();
    }

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>Releases the device's kernels and accelerator.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        ownBackend.Dispose();
    }

    /// <summary>
    /// The seam for tools that watch the kernels (the Bench profiler): until the returned scope is disposed, every op
    /// on this device calls <paramref name="decorate"/>(the device's own backend) instead, which forwards to it.
    /// One decorator at a time; the device still owns and disposes its own backend.
    /// </summary>
    /// <exception cref="InvalidOperationException">A decorator is already in place.</exception>
    internal IDisposable InterceptKernels(Func<IKernelBackend, IKernelBackend> decorate)
    {
        ThrowIfDisposed();
        if (!ReferenceEquals(Backend, ownBackend))
        {
            throw new InvalidOperationException($"Device {Name} already has a kernel decorator in place.");
        }

        Backend = decorate(ownBackend);
        return new Interception(this);
    }

    /// <summary>Puts the device's own backend back when disposed.</summary>
    private sealed class Interception(Device device) : IDisposable
    {
        public void Dispose() => device.Backend = device.ownBackend;
    }

    internal Storage<T> Allocate<T>(long length)
        where T : unmanaged
    {
        ThrowIfDisposed();
        var storage = Backend.Allocate<T>(length);
        Interlocked.Increment(ref allocationCount);
        long bytes = length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        Interlocked.Add(ref allocatedBytes, bytes);
        storage.Released += () => Interlocked.Add(ref allocatedBytes, -bytes);
        return storage;
    }

    /// <summary>Counts one copy of a tensor to host memory (<see cref="HostCopyCount"/>).</summary>
    internal void CountHostCopy() => Interlocked.Increment(ref hostCopyCount);

    /// <summary>Whether <see cref="Dispose"/> has run: the device's tensors are then unusable.</summary>
    internal bool IsDisposed => disposed;

    // No objectName: with one, the message gains a second line ("Object name: ...") that repeats what it says.
    internal void ThrowIfDisposed()
    {
        if (disposed)
        {
            throw new ObjectDisposedException(objectName: null, $"The {Name} device was used after it was disposed.");
        }
    }
}
