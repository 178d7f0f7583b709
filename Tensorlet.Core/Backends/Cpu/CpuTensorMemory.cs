namespace Tensorlet.Backends.Cpu;

/// <summary>How the CPU backend reaches a tensor's elements: on <c>cpu</c> every storage is a <see cref="CpuStorage{T}"/> in host memory.</summary>
internal static class CpuTensorMemory
{
    extension<T>(DeviceTensor<T> tensor)
        where T : unmanaged
    {
        /// <summary>The elements as a span over host memory. Only for tensors on <c>cpu</c>.</summary>
        internal Span<T> Span
        {
            get
            {
                tensor.ThrowIfDisposed();
                return ((CpuStorage<T>)tensor.Storage).AsSpan(tensor.Offset, tensor.Length);
            }
        }
    }
}
