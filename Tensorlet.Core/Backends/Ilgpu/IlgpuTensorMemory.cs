using ILGPU;

namespace Tensorlet.Backends.Ilgpu;

/// <summary>How the ILGPU backend reaches a tensor's elements: on <c>cuda</c> and <c>ilgpu-cpu</c> every storage is an <see cref="IlgpuStorage{T}"/>.</summary>
internal static class IlgpuTensorMemory
{
    extension<T>(DeviceTensor<T> tensor)
        where T : unmanaged
    {
        /// <summary>The elements as an ILGPU view. Only for tensors on <c>cuda</c> and <c>ilgpu-cpu</c>.</summary>
        internal ArrayView<T> View
        {
            get
            {
                tensor.ThrowIfDisposed();
                return ((IlgpuStorage<T>)tensor.Storage).View(tensor.Offset, tensor.Length);
            }
        }
    }
}
