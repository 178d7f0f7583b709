using Tensorlet.Bench.Infrastructure;

namespace Tensorlet.Bench;

/// <summary>Operands for the GEMM benchmarks, and the float64 check every case passes before it is timed.</summary>
internal static class GemmBenchmarkData
{
    /// <summary>Uniform values in [−1, 1).</summary>
    public static float[] Random(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return values;
    }

    /// <summary>
    /// Checks 256 entries of C (spread over rows and columns, corners included) against float64 dot products;
    /// the bound is the tests' (1e-6·√K·Σ|a·b|, see GemmTests). Throws when any is off, so a wrong kernel is never timed.
    /// </summary>
    public static void Validate(StepGemmShape shape, int h, float[] a, float[] b, float[] c, string variant)
    {
        var (m, n, k, transposeA, transposeB) = StepGemmShapes.Dimensions(shape, h);
        var rng = new Random(7);
        for (int sample = 0; sample < 256; sample++)
        {
            int i = sample switch { 0 or 1 => 0, 2 or 3 => m - 1, _ => rng.Next(m) };
            int j = sample switch { 0 or 2 => 0, 1 or 3 => n - 1, _ => rng.Next(n) };
            double sum = 0, magnitude = 0;
            for (int p = 0; p < k; p++)
            {
                double av = transposeA ? a[((long)p * m) + i] : a[((long)i * k) + p];
                double bv = transposeB ? b[((long)j * k) + p] : b[((long)p * n) + j];
                sum += av * bv;
                magnitude += Math.Abs(av * bv);
            }

            double error = Math.Abs(c[((long)i * n) + j] - sum);
            if (!(error <= (1e-6 * Math.Sqrt(k) * magnitude) + 1e-6))
            {
                throw new InvalidOperationException($"{variant} GEMM is wrong on {shape} (H={h}): C[{i}, {j}] = {c[((long)i * n) + j]}, float64 gives {sum}.");
            }
        }
    }
}
