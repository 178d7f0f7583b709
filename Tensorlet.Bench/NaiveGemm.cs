using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench;

/// <summary>
/// The textbook triple loop in float32, single-threaded: the baseline <see cref="CpuGemmNaiveBenchmarks"/> sets beside the
/// packed, vectorised <see cref="CpuGemm"/>, checked against float64 before it is timed. Same contract as <see cref="CpuGemm.Gemm(bool, bool, int, int, int, float, ReadOnlySpan{float}, ReadOnlySpan{float}, float, Span{float}, int, GemmGeometry?)"/>.
/// </summary>
internal static class NaiveGemm
{
    /// <summary>C = alpha·op(A)·op(B) + beta·C by the definition, one dot product per element of C.</summary>
    public static void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                    float bv = transposeB ? b[(j * k) + p] : b[(p * n) + j];
                    sum += av * bv;
                }

                c[(i * n) + j] = (alpha * sum) + (beta == 0f ? 0f : beta * c[(i * n) + j]);
            }
        }
    }
}
