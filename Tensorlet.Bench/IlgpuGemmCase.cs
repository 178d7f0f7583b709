namespace Tensorlet.Bench;

/// <summary>One ILGPU GEMM benchmark case: C [M,N] = op(A)·op(B) with the given layouts, on a device, by a variant.</summary>
/// <param name="Device">The device name (<c>cuda</c> or <c>ilgpu-cpu</c>).</param>
/// <param name="Variant">The <c>IlgpuGemmVariant</c> name, e.g. Naive, Tiled, TiledLarge or CuBlas.</param>
/// <param name="M">Rows of C.</param>
/// <param name="N">Columns of C.</param>
/// <param name="K">The reduction dimension.</param>
/// <param name="TransposeA">Whether A is stored [K,M].</param>
/// <param name="TransposeB">Whether B is stored [N,K].</param>
public sealed record IlgpuGemmCase(string Device, string Variant, int M, int N, int K, bool TransposeA, bool TransposeB)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Device} {Variant} {M}x{K}*{K}x{N} {(TransposeA ? "T" : "N")}{(TransposeB ? "T" : "N")}";
}
