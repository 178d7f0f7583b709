using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    private readonly CpuPackedOperands packedOperands = new();

    /// <summary>
    /// The packed SIMD GEMM (<see cref="CpuGemm"/>). A B multiplied by again unchanged is packed once and reused until it
    /// is written (<see cref="CpuPackedOperands"/>).
    /// </summary>
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta)
    {
        var packed = packedOperands.For(b, transposeB, k, n, Threads, Plan.Gemm, keepNow: false);
        if (packed is null)
        {
            CpuGemm.Gemm(transposeA, transposeB, m, n, k, alpha, a.ReadSpan, b.ReadSpan, beta, c.Span, Threads, Plan.Gemm);
            return;
        }

        CpuGemm.Gemm(transposeA, m, alpha, a.ReadSpan, packed, beta, c.Span, Threads);
    }

    /// <summary>One packed GEMM job over both Bs, packing op(A) once (<see cref="CpuGemm.GemmSharedA"/>).</summary>
    public void GemmSharedA(Tensor a, bool transposeA, Tensor b1, Tensor c1, Tensor b2, Tensor c2, int m, int n1, int n2, int k, float alpha, float beta)
        => CpuGemm.GemmSharedA(transposeA, m, n1, n2, k, alpha, a.ReadSpan, b1.ReadSpan, b2.ReadSpan, beta, c1.Span, c2.Span, Threads, Plan.Gemm);
}
