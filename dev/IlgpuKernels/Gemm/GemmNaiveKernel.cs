using ILGPU;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>
/// The simplest GEMM: one thread per element of C, a dot product straight from global memory.
/// Kept beside the tiled kernel as the baseline the benchmarks compare against.
/// </summary>
internal static class GemmNaiveKernel
{
    /// <summary>
    /// Launch over <c>new Index2D(n, m)</c>: X runs along the columns j of C, so neighbouring threads
    /// read neighbouring elements of B (when B is not transposed) and write neighbouring elements of C.
    /// </summary>
    public static void Run(Index2D index, GemmArguments args, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        int j = index.X;
        int i = index.Y;
        int aIndex = i * args.ARowStride;
        int bIndex = j * args.BColumnStride;
        float sum = 0f;
        for (int p = 0; p < args.K; p++)
        {
            sum += a[aIndex] * b[bIndex];
            aIndex += args.ADepthStride;
            bIndex += args.BDepthStride;
        }

        args.Store(c, i, j, sum);
    }
}
