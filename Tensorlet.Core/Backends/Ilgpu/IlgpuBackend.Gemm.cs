namespace Tensorlet.Backends.Ilgpu;

internal sealed partial class IlgpuBackend
{
    private IlgpuGemmKernels? gemmKernels;

    /// <summary>This accelerator's GEMM kernels, compiled on first use.</summary>
    internal IlgpuGemmKernels GemmKernels => gemmKernels ??= new IlgpuGemmKernels(Accelerator);

    /// <inheritdoc/>
    /// <remarks>Nothing is packed ahead: the tiled kernel stages B through shared memory on every call.</remarks>
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta)
        => GemmKernels.Gemm(a.View, transposeA, b.View, transposeB, c.View, m, n, k, alpha, beta);

    /// <inheritdoc/>
    /// <remarks>Two launches of the tiled kernel, which stages A through shared memory per tile anyway.</remarks>
    public void GemmSharedA(Tensor a, bool transposeA, Tensor b1, Tensor c1, Tensor b2, Tensor c2, int m, int n1, int n2, int k, float alpha, float beta)
    {
        Gemm(a, transposeA, b1, false, c1, m, n1, k, alpha, beta);
        Gemm(a, transposeA, b2, false, c2, m, n2, k, alpha, beta);
    }
}
