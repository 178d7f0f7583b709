using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Bench.Infrastructure;

namespace Tensorlet.Bench;

/// <summary>
/// The ILGPU GEMM variants (every <see cref="IlgpuGemmVariant"/>: naive, tiled 4×4 and 8×8, cuBLAS, and any added later)
/// on the ILGPU devices present. On <c>cuda</c>: the LSTM's shapes for H = 256 and 512 (T·B = 9900 rows, batch 100) in
/// the layouts training uses, forward and backward, including the recurrent step's dh = dPre·W_hh (100×4H·4H×H), and
/// the 100×512·512×2048, 9900×512·512×2048 and 9900×2048·2048×512; the naive baseline only on the issue's
/// shapes. On <c>ilgpu-cpu</c> only a 64³ case for naive and the two tiled kernels, for scale.
/// Every case is checked against a float64 dot product (all entries, or 256 sampled ones) before it is timed.
/// Run with e.g. <c>--filter '*IlgpuGemm*' --job short --inProcess</c>. <c>TENSORLET_BENCH_HIDDEN</c> (e.g. <c>512</c>)
/// keeps only the LSTM shapes of those H, as scripts/gpu-check.sh does to fit its time. Each device is created once per
/// process and shared by its cases (in-process runs): a CUDA context and the kernels' compilation are not what is timed.
/// </summary>
[Config(typeof(Config))]
public class IlgpuGemmBenchmarks
{
    private static readonly Dictionary<string, Device> Devices = [];
    private Device? device;
    private Tensor? a;
    private Tensor? b;
    private Tensor? c;

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Cases))]
    public IlgpuGemmCase Case { get; set; } = null!;

    /// <summary>Every case for the devices on this machine.</summary>
    public static IEnumerable<IlgpuGemmCase> Cases()
    {
        foreach (var variant in new[] { "Naive", "Tiled", "TiledLarge" })
        {
            yield return new IlgpuGemmCase("ilgpu-cpu", variant, 64, 64, 64, false, false);
        }

        if (!Device.IsCudaAvailable)
        {
            yield break;
        }

        // Every variant the enum holds, so one added on another branch (e.g. a split-K tiled kernel) is measured
        // without touching this list.
        foreach (var variant in Enum.GetNames<IlgpuGemmVariant>())
        {
            // The naive kernel is the baseline: the three shapes are enough to place it.
            foreach (int h in variant == nameof(IlgpuGemmVariant.Naive) ? Array.Empty<int>() : HiddenSizes())
            {
                // Forward: x·Wᵀ with W [4H, H], for one step (batch 100) and for all 99 steps at once.
                yield return new IlgpuGemmCase("cuda", variant, 100, 4 * h, h, false, true);
                yield return new IlgpuGemmCase("cuda", variant, 9900, 4 * h, h, false, true);

                // Backward: dX = dPre·W, and dW = dPreᵀ·X over all steps.
                yield return new IlgpuGemmCase("cuda", variant, 9900, h, 4 * h, false, false);
                yield return new IlgpuGemmCase("cuda", variant, 4 * h, h, 9900, true, false);

                // Backward through the recurrence, once per step: dh += dPre·W_hh with dPre [100, 4H] and W_hh stored
                // [4H, H], neither transposed. Only 100×H outputs but a long K: few blocks of C to spread over the GPU.
                // Training accumulates (beta = 1, one more read of the small C); every case here times beta = 0.
                yield return new IlgpuGemmCase("cuda", variant, 100, h, 4 * h, false, false);
            }

            // The shapes, plain row-major.
            yield return new IlgpuGemmCase("cuda", variant, 100, 2048, 512, false, false);
            yield return new IlgpuGemmCase("cuda", variant, 9900, 2048, 512, false, false);
            yield return new IlgpuGemmCase("cuda", variant, 9900, 512, 2048, false, false);
        }
    }

    /// <summary>Creates the operands (and the device, once), runs the GEMM once (compiling it) and checks the result.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (!Devices.TryGetValue(Case.Device, out device))
        {
            device = Device.Create(Case.Device);
            Devices[Case.Device] = device;
        }

        ((IlgpuBackend)device.Backend).GemmVariant = Enum.Parse<IlgpuGemmVariant>(Case.Variant);
        var random = new Random(1234);
        float[] hostA = RandomArray(random, Case.M * Case.K);
        float[] hostB = RandomArray(random, Case.K * Case.N);
        a = device.FromArray(hostA, Case.TransposeA ? [Case.K, Case.M] : [Case.M, Case.K]);
        b = device.FromArray(hostB, Case.TransposeB ? [Case.N, Case.K] : [Case.K, Case.N]);
        c = device.Zeros(Case.M, Case.N);
        Multiply();
        Validate(hostA, hostB, c.ToArray(), random);
    }

    /// <summary>One C = op(A)·op(B), waited for.</summary>
    [Benchmark]
    public void Multiply()
    {
        Ops.Gemm(a!, Case.TransposeA, b!, Case.TransposeB, c!);
        device!.Synchronize();
    }

    /// <summary>Releases the operands; the shared device lives until the process ends.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        a?.Dispose();
        b?.Dispose();
        c?.Dispose();
    }

    /// <summary>The H of the LSTM shapes: 256 and 512, or those listed in TENSORLET_BENCH_HIDDEN.</summary>
    private static int[] HiddenSizes()
    {
        string? listed = Environment.GetEnvironmentVariable("TENSORLET_BENCH_HIDDEN");
        if (string.IsNullOrWhiteSpace(listed))
        {
            return [256, 512];
        }

        return [.. listed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(text =>
            int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int h) && h > 0
                ? h
                : throw new ArgumentException($"TENSORLET_BENCH_HIDDEN must list positive integers, e.g. 256,512; got '{listed}'."))];
    }

    private static float[] RandomArray(Random random, int length)
    {
        var values = new float[length];
        for (int index = 0; index < length; index++)
        {
            values[index] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }

    /// <summary>Compares entries of C with float64 dot products; the √K-scaled bound is the one the tests use and justify.</summary>
    private void Validate(float[] hostA, float[] hostB, float[] result, Random random)
    {
        int m = Case.M;
        int n = Case.N;
        int k = Case.K;
        bool all = (long)m * n <= 4096;
        int samples = all ? m * n : 256;
        for (int sample = 0; sample < samples; sample++)
        {
            int i = all ? sample / n : sample == 0 ? 0 : sample == 1 ? m - 1 : random.Next(m);
            int j = all ? sample % n : sample == 0 ? 0 : sample == 1 ? n - 1 : random.Next(n);
            double dot = 0;
            double magnitude = 0;
            for (int p = 0; p < k; p++)
            {
                double product = (double)hostA[Case.TransposeA ? (p * m) + i : (i * k) + p] * hostB[Case.TransposeB ? (j * k) + p : (p * n) + j];
                dot += product;
                magnitude += Math.Abs(product);
            }

            double error = Math.Abs(result[(i * n) + j] - dot);
            double tolerance = 1e-6 + (4e-6 * Math.Sqrt(k) * magnitude);
            if (!(error <= tolerance))
            {
                throw new InvalidOperationException($"{Case}: C[{i},{j}] = {result[(i * n) + j]}, expected {dot} (|Δ| {error:E2} > {tolerance:E2}).");
            }
        }
    }

    /// <summary>Adds the GFLOP/s column (2·M·N·K floating-point operations per multiply).</summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // Room for the whole case name, e.g. "cuda CuBlas 9900x2048*2048x512 NN".
            SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(48);
            AddColumn(new ThroughputColumn("GFLOP/s", bc => bc.Parameters["Case"] is IlgpuGemmCase g ? 2.0 * g.M * g.N * g.K / 1e9 : double.NaN));
        }
    }
}
