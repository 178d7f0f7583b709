using Tensorlet.Bench.Infrastructure;

namespace Tensorlet.Bench;

/// <summary>Operands for the GEMM benchmarks, and the float64 check every case passes before it is timed.</summary>
internal static class GemmBenchmarkData
{
    /// <summary>Uniform values in [−1, 1), 64-byte aligned as the training step's tensors are (<see cref="Zeros"/>).</summary>
    public static ArraySegment<float> Random(Random rng, int length)
    {
        var values = Zeros(length);
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return values;
    }

    /// <summary>
    /// Zeros whose first element is 64-byte aligned, as the cpu device allocates tensors: an array's elements start 16
    /// bytes into an object aligned to 8 bytes only, and a C whose rows are not aligned has every 64-byte store of the
    /// microkernel straddle two cache lines, which the training step never does.
    /// </summary>
    public static ArraySegment<float> Zeros(int length)
    {
        var array = GC.AllocateArray<float>(length + 16, pinned: true);
        int offset;
        unsafe
        {
            fixed (float* start = array)
            {
                offset = (int)((64 - ((nint)start & 63)) & 63) / sizeof(float);
            }
        }

        return new ArraySegment<float>(array, offset, length);
    }

    /// <summary>
    /// Checks 256 entries of C (spread over rows and columns, corners included) against float64 dot products;
    /// the bound is the tests' (1e-6·√K·Σ|a·b|, see GemmTests). Throws when any is off, so a wrong kernel is never timed.
    /// </summary>
    public static void Validate(StepGemmShape shape, int h, ArraySegment<float> a, ArraySegment<float> b, ArraySegment<float> c, string variant)
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
                double av = transposeA ? a[(p * m) + i] : a[(i * k) + p];
                double bv = transposeB ? b[(j * k) + p] : b[(p * n) + j];
                sum += av * bv;
                magnitude += Math.Abs(av * bv);
            }

            double error = Math.Abs(c[(i * n) + j] - sum);
            if (!(error <= (1e-6 * Math.Sqrt(k) * magnitude) + 1e-6))
            {
                throw new InvalidOperationException($"{variant} GEMM is wrong on {shape} (H={h}): C[{i}, {j}] = {c[(i * n) + j]}, float64 gives {sum}.");
            }
        }
    }
}
