using ILGPU;
using ILGPU.Runtime;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>A dense one-dimensional ILGPU buffer on an accelerator (a CUDA GPU or ILGPU's CPU accelerator).</summary>
internal sealed class IlgpuStorage<T> : Storage<T>
    where T : unmanaged
{
    private readonly MemoryBuffer1D<T, Stride1D.Dense> buffer;

    public IlgpuStorage(Accelerator accelerator, long length)
        : base(length)
    {
        buffer = accelerator.Allocate1D<T>(Math.Max(1, length));
        buffer.MemSetToZero();
    }

    public ArrayView<T> View(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return buffer.View.SubView(offset, length);
    }

    public override void CopyFrom(ReadOnlySpan<T> source, long offset) => View(offset, source.Length).CopyFromCPU(source);

    public override void CopyTo(Span<T> destination, long offset) => View(offset, destination.Length).CopyToCPU(destination);

    protected override void Release() => buffer.Dispose();
}
