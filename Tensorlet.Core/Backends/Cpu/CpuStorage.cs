using System.Runtime.InteropServices;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

/// <summary>
/// Zero-initialised native memory aligned to 64 bytes, so Vector512 loads of a row start never split a cache line; a
/// large buffer in huge pages where <see cref="CpuHugePages"/> allows.
/// </summary>
internal sealed unsafe class CpuStorage<T> : Storage<T>
    where T : unmanaged
{
    private readonly CpuHugePages hugePages;
    private readonly long bytes;
    private readonly long allocatedBytes;
    private T* pointer;

    public CpuStorage(long length, CpuHugePages hugePages)
        : base(length)
    {
        this.hugePages = hugePages;
        bytes = Math.Max(1, length) * sizeof(T);
        pointer = (T*)hugePages.Allocate(bytes);
        NativeMemory.Clear(pointer, (nuint)bytes);
        allocatedBytes = hugePages.AllocatedBytes(bytes);
        GC.AddMemoryPressure(allocatedBytes);
    }

    public T* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return pointer;
        }
    }

    /// <summary>
    /// Counts the writes to this buffer: bumped by every writable span handed out and every copy from the host, so a copy
    /// derived from the contents (a packed GEMM operand, <see cref="CpuPackedOperands"/>) is valid while it is unchanged.
    /// </summary>
    public long Version { get; private set; }

    public Span<T> AsSpan(long offset, long length) => new(Pointer + offset, checked((int)length));

    /// <summary>The span of a write: bumps <see cref="Version"/>.</summary>
    public Span<T> AsWritableSpan(long offset, long length)
    {
        Version++;
        return AsSpan(offset, length);
    }

    public override void CopyFrom(ReadOnlySpan<T> source, long offset) => source.CopyTo(AsWritableSpan(offset, source.Length));

    public override void CopyTo(Span<T> destination, long offset) => AsSpan(offset, destination.Length).CopyTo(destination);

    protected override void Release()
    {
        hugePages.Free(pointer, bytes);
        GC.RemoveMemoryPressure(allocatedBytes);
        pointer = null;
    }
}
