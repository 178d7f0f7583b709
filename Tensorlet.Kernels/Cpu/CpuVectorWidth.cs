namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The register width the CPU kernels run at: the GEMM microkernel (8×32 Vector512, 6×16 Vector256, 6×8 Vector128,
/// 4×4 scalar) and the widest step of the elementwise loops. A kernel given a width computes with nothing wider;
/// narrower steps still take the tail. The GEMM's packing, which only moves floats, uses the widest moves the CPU has.
/// </summary>
internal enum CpuVectorWidth
{
    /// <summary>Plain floats.</summary>
    Scalar = 1,

    /// <summary>Four floats (SSE, ARM64 Neon).</summary>
    Vector128 = 4,

    /// <summary>Eight floats (AVX2 with FMA).</summary>
    Vector256 = 8,

    /// <summary>Sixteen floats (AVX-512).</summary>
    Vector512 = 16,
}
