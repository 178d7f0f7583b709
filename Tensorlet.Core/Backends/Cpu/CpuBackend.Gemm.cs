using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>
    /// The packed SIMD GEMM (<see cref="CpuGemm"/>). With a <paramref name="packCache"/>, B is packed once and
    /// reused until the cache is invalidated (or a call brings a different shape or layout).
    /// </summary>
    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha, float beta, GemmPackCache? packCache)
    {
        if (packCache is null)
        {
            CpuGemm.Gemm(transposeA, transposeB, m, n, k, alpha, a.Span, b.Span, beta, c.Span, Threads);
            return;
        }

        var packed = Packed(b, transposeB, k, n, packCache);
        CpuGemm.Gemm(transposeA, m, alpha, a.Span, packed, beta, c.Span, Threads);
    }

    /// <summary>The cache's packing of op(B) [k, n], (re)packed when stale, of another shape, or made by another device.</summary>
    private PackedMatrix Packed(Tensor b, bool transposeB, int k, int n, GemmPackCache packCache)
    {
        var packed = packCache.Packed as PackedMatrix;
        if (packed is null && packCache.Packed is IDisposable foreign)
        {
            // Another device's packing in a cache now used on the cpu: release it rather than leak it.
            foreign.Dispose();
            packCache.Packed = null;
        }

        if (packCache.IsStale || packed is null || packed.IsDisposed || packed.K != k || packed.N != n || packed.Geometry != GemmGeometry.Best)
        {
            // PackB refills the old buffer when the shape matches, so invalidation costs no allocation.
            packed = CpuGemm.PackB(transposeB, k, n, b.Span, Threads, packed is { IsDisposed: false } ? packed : null);
            packCache.Packed = packed;
            packCache.MarkFresh();
        }

        return packed;
    }
}
