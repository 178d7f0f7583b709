namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta, GemmPackCache? packCache)
        => throw new NotImplementedException();
}
