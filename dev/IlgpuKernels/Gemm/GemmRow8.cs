using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Ilgpu;

namespace Tensorlet.Dev.IlgpuKernels.Gemm;

/// <summary>
/// Eight floats held as plain fields: one row of a thread's 8×8 register tile in <see cref="GemmTiledLargeKernel"/>.
/// ILGPU lowers such a struct to eight scalar registers; it is not a SIMD vector (no System.Numerics in kernels).
/// </summary>
internal struct GemmRow8
{
    public float V0;
    public float V1;
    public float V2;
    public float V3;
    public float V4;
    public float V5;
    public float V6;
    public float V7;

    /// <summary>this += a·b, element by element.</summary>
    public void MultiplyAdd(float a, GemmRow8 b)
    {
        V0 += a * b.V0;
        V1 += a * b.V1;
        V2 += a * b.V2;
        V3 += a * b.V3;
        V4 += a * b.V4;
        V5 += a * b.V5;
        V6 += a * b.V6;
        V7 += a * b.V7;
    }
}
