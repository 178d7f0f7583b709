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
}
