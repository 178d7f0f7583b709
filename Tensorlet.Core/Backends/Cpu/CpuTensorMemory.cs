namespace Tensorlet.Backends.Cpu;

/// <summary>How the CPU backend reaches a tensor's elements: on <c>cpu</c> every storage is a <see cref="CpuStorage{T}"/> in host memory.</summary>
internal static class CpuTensorMemory
{
    extension<T>(DeviceTensor<T> tensor)
        where T : unmanaged
    {
        /// <summary>
        /// The elements as a writable span over host memory, which counts as a write to the buffer (it bumps its version
        /// and so retires packed copies of it). Only for tensors on <c>cpu</c>.
        /// </summary>
        internal Span<T> Span
        {
            get
            {
                tensor.ThrowIfDisposed();
                return ((CpuStorage<T>)tensor.Storage).AsWritableSpan(tensor.Offset, tensor.Length);
            }
        }

        /// <summary>The elements as a read-only span: a read, which leaves the buffer's version alone. Only for tensors on <c>cpu</c>.</summary>
        internal ReadOnlySpan<T> ReadSpan
        {
            get
            {
                tensor.ThrowIfDisposed();
                return ((CpuStorage<T>)tensor.Storage).AsSpan(tensor.Offset, tensor.Length);
            }
        }

        /// <summary>The buffer behind the tensor, for bookkeeping keyed by it.</summary>
        internal CpuStorage<T> CpuStorage => (CpuStorage<T>)tensor.Storage;
    }
}
