namespace Tensorlet.Backends.Ilgpu;

internal sealed partial class IlgpuBackend
{
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta, GemmPackCache? packCache)
        => throw new NotImplementedException();
}
