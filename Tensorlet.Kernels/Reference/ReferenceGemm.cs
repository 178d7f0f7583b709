namespace Tensorlet.Kernels.Reference;

/// <summary>
/// The plain float64 GEMM that every GEMM variant is checked against: readable, not fast.
/// C[m,n] = alpha·op(A)·op(B) + beta·C, row-major; A is [m,k] or [k,m] when transposed, B is [k,n] or [n,k] when transposed.
/// </summary>
internal static class ReferenceGemm
{
    public static void Gemm(bool transposeA, bool transposeB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double beta, Span<double> c)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                    double bv = transposeB ? b[(j * k) + p] : b[(p * n) + j];
                    sum += av * bv;
                }

                c[(i * n) + j] = (alpha * sum) + (beta == 0 ? 0 : beta * c[(i * n) + j]);
            }
        }
    }
}
