using Tensorlet.Backends.Ilgpu;

namespace Tensorlet.Bench;

/// <summary>
/// What fusion buys: the fused LSTM cell (forward and backward) and the fused softmax cross-entropy against the
/// same maths as separate elementwise passes, the way an eager framework runs them (one sweep over memory per
/// operation). On <c>cpu</c> the kernels run on arrays, on one thread and on all cores; the unfused passes
/// (<see cref="UnfusedCpuPasses"/>) run the library's own elementwise loop and operator structs, one sweep per operation, on one thread. On <c>cuda</c> (when present) both run as ILGPU kernels.
/// Every variant is checked against the float64 reference in [GlobalSetup] before anything is timed.
/// Devices: <c>cpu</c> and <c>cuda</c> when present, or the comma-separated list in TENSORLET_BENCH_DEVICES
/// (<c>ilgpu-cpu</c> works there too, slowly, to check the ILGPU path without a GPU).
/// The benchmarks: <see cref="FusedLstmCellBenchmarks"/>, <see cref="FusedSoftmaxCrossEntropyBenchmarks"/> and
/// <see cref="FusedLayerNormBenchmarks"/> (the fused kernel alone: there is no unfused layer norm); this class holds what they share.
/// </summary>
public static class FusedKernelBenchmarks
{
    /// <summary>The devices to run on.</summary>
    public static IEnumerable<string> Devices()
    {
        var configured = Environment.GetEnvironmentVariable("TENSORLET_BENCH_DEVICES");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        return Device.IsCudaAvailable ? ["cpu", "cuda"] : ["cpu"];
    }

    /// <summary>Throws unless every |actual − expected| ≤ 1e-4 + 1e-4·|expected| (the kernel tests' bound).</summary>
    public static void Validate(string what, ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(actual[i] - expected[i]) <= 1e-4 + (1e-4 * Math.Abs(expected[i]))))
            {
                throw new InvalidOperationException($"{what}[{i}] = {actual[i]} but the float64 reference says {expected[i]}: not timing a wrong kernel.");
            }
        }
    }

    public static float[] Uniform(Random rng, int n, double scale)
    {
        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = (float)(((rng.NextDouble() * 2) - 1) * scale);
        }

        return values;
    }

    public static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);

    internal static IlgpuBackend Ilgpu(Device device) => (IlgpuBackend)device.Backend;
}
