using ILGPU;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>
/// The second pass of a GEMM split along k (<see cref="GemmArguments.SplitK"/>): C = alpha·Σ_z partials[z] + beta·C, one
/// thread per element of C. The slices are added in order z = 0, 1, …, so the result does not depend on scheduling
/// (atomic adds into C would). No barriers, so it is also quick on ILGPU's CPU accelerator.
/// </summary>
internal static class GemmSplitKReduceKernel
{
    /// <summary>
    /// c[e] = alpha·Σ_{z &lt; slices} partials[z·c.Length + e] + beta·c[e]; c is not read when beta is 0. Launch over c.Length elements.
    /// </summary>
    public static void Run(Index1D e, ArrayView<float> partials, ArrayView<float> c, int slices, float alpha, float beta)
    {
        long stride = c.Length;
        float sum = 0f;
        for (int z = 0; z < slices; z++)
        {
            sum += partials[(z * stride) + e];
        }

        float value = alpha * sum;
        if (beta != 0f)
        {
            value += beta * c[e];
        }

        c[e] = value;
    }
}
