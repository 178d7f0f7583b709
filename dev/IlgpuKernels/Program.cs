using System.Diagnostics;
using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Tensorlet.Dev.IlgpuKernels;
using Tensorlet.Dev.IlgpuKernels.Gemm;
using Tensorlet.Dev.IlgpuKernels.Recurrence;

// The ILGPU kernel workbench: every GEMM and recurrence variant, first validated against its float64 reference, then
// timed. On cuda (when present, or asked for) at the LSTM's shapes; on ilgpu-cpu at small sizes, to show it runs.
// usage: dotnet run -c Release --project dev/IlgpuKernels -- [--device auto|cuda|ilgpu-cpu] [--hidden 256,512] [--iterations 20]
var options = WorkbenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(WorkbenchOptions.Usage);
    return 2;
}

bool cuda = options.Device == "cuda" || (options.Device == "auto" && HasCuda());
if (options.Device == "cuda" && !HasCuda())
{
    Console.Error.WriteLine("workbench: --device cuda needs an NVIDIA GPU and its driver (libcuda.so), and this machine has none; --device ilgpu-cpu runs every variant small.");
    return 1;
}
using var context = Context.Create(builder => (cuda ? builder.Cuda() : builder.CPU()).EnableAlgorithms());
using Accelerator accelerator = cuda ? context.CreateCudaAccelerator(0) : context.CreateCPUAccelerator(0);
using var gemm = new GemmVariants(accelerator);
var recurrence = new RecurrenceRunner(gemm);
Console.WriteLine($"workbench on {accelerator.Name} ({accelerator.AcceleratorType}, {accelerator.NumMultiprocessors} multiprocessors)");

GemmVariant[] gemmVariants = cuda ? Enum.GetValues<GemmVariant>() : [.. Enum.GetValues<GemmVariant>().Where(v => v != GemmVariant.CuBlas)];
var gemmCases = cuda
    ? options.Hidden.SelectMany(h => new GemmCase[]
    {
        new(100, 4 * h, h, false, true), // one step's h·W_hhᵀ
        new(9900, 4 * h, h, false, true), // the whole sequence's x·W_ihᵀ
        new(9900, h, 4 * h, false, false), // dx = d(pre)·W_ih
        new(4 * h, h, 9900, true, false), // dW = d(pre)ᵀ·x
        new(100, h, 4 * h, false, false), // one step's d(pre)·W_hh
    }).ToArray()
    : [new GemmCase(64, 64, 64, false, false), new GemmCase(33, 70, 37, true, true)];

// 1. Validate: every variant against the float64 reference; a variant that fails is not timed.
var failed = new HashSet<string>();
foreach (var variant in gemmVariants)
{
    foreach (var shape in gemmCases)
    {
        string? error = Checks.Gemm(gemm, variant, shape, out bool skipped);
        if (skipped)
        {
            Console.WriteLine($"check GEMM {variant,-12} {shape}: skipped, {error}");
            failed.Add(variant.ToString());
            break;
        }

        Console.WriteLine($"check GEMM {variant,-12} {shape}: {error ?? "ok"}");
        if (error is not null)
        {
            failed.Add(variant.ToString());
        }
    }
}

if (cuda)
{
    // Which of the names CuBlasLibraryResolver accepts (docs/cuda.md) the cuBLAS variant ran on; gpu-check reports it.
    Console.WriteLine($"cuBLAS: {CuBlasLibraryResolver.Loaded ?? "not loaded"}");
}

foreach (var variant in Enum.GetValues<RecurrenceVariant>())
{
    string? error = Checks.Recurrence(accelerator, recurrence, variant);
    Console.WriteLine($"check recurrence {variant,-18} T=3 B=70 H=40: {error ?? "ok"}");
    if (error is not null)
    {
        failed.Add(variant.ToString());
    }
}

// 2. Time: the median of the iterations after two warm-up runs, each waited for.
foreach (var variant in gemmVariants.Where(v => !failed.Contains(v.ToString())))
{
    foreach (var shape in gemmCases)
    {
        double ms = Timing.Gemm(gemm, variant, shape, options.Iterations);
        Console.WriteLine($"time GEMM {variant,-12} {shape}: {ms:F4} ms, {2.0 * shape.M * shape.N * shape.K / (ms * 1e6):G3} GFLOP/s");
    }
}

int[] recurrenceHidden = cuda ? options.Hidden : [16];
(int steps, int batch) = cuda ? (99, 100) : (4, 18);
foreach (var variant in Enum.GetValues<RecurrenceVariant>().Where(v => !failed.Contains(v.ToString())))
{
    foreach (int h in recurrenceHidden)
    {
        double ms = Timing.Recurrence(accelerator, recurrence, variant, steps, batch, h, options.Iterations);
        double flops = 2.0 * 2 * (steps - 1) * batch * 4.0 * h * h; // the recurrent GEMMs, forward and backward
        Console.WriteLine($"time recurrence {variant,-18} T={steps} B={batch} H={h}: {ms:F3} ms forward+backward, {flops / (ms * 1e6):G3} GFLOP/s in its GEMMs");
    }
}

Console.WriteLine(failed.Count == 0 ? "workbench: every variant validated" : $"workbench: FAILED or skipped validation: {string.Join(", ", failed)}");
return failed.Count == 0 || failed.SetEquals([nameof(GemmVariant.CuBlas)]) ? 0 : 1;

static bool HasCuda()
{
    try
    {
        using var probe = Context.Create(builder => builder.Cuda());
        return probe.GetCudaDevices().Count > 0;
    }
    catch (Exception ex) when (ex is not OutOfMemoryException)
    {
        return false;
    }
}

namespace Tensorlet.Dev.IlgpuKernels
{
    /// <summary>The workbench's arguments.</summary>
    internal sealed record WorkbenchOptions(string Device, int[] Hidden, int Iterations)
    {
        public const string Usage = "usage: IlgpuKernels [--device auto|cuda|ilgpu-cpu] [--hidden 256,512] [--iterations 20]";

        /// <summary>The options, or null after printing what is wrong.</summary>
        public static WorkbenchOptions? Parse(string[] args)
        {
            var options = new WorkbenchOptions("auto", [256, 512], 20);
            for (int i = 0; i < args.Length; i++)
            {
                string? value = i + 1 < args.Length ? args[i + 1] : null;
                switch (args[i])
                {
                    case "--device" when value is "auto" or "cuda" or "ilgpu-cpu":
                        options = options with { Device = value };
                        break;
                    case "--hidden" when value is not null && value.Split(',').All(t => int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int h) && h > 0):
                        options = options with { Hidden = [.. value.Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))] };
                        break;
                    case "--iterations" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0:
                        options = options with { Iterations = n };
                        break;
                    default:
                        Console.Error.WriteLine($"IlgpuKernels: bad argument '{args[i]}'{(value is null ? string.Empty : $" '{value}'")}.");
                        return null;
                }

                i++;
            }

            return options;
        }
    }

    /// <summary>One GEMM shape: C[M, N] = op(A)·op(B) with k = K.</summary>
    internal readonly record struct GemmCase(int M, int N, int K, bool TransposeA, bool TransposeB)
    {
        public override string ToString() => $"{M}x{K}*{K}x{N} {(TransposeA ? 'T' : 'N')}{(TransposeB ? 'T' : 'N')}";
    }

    /// <summary>Waits for each run, so a median is the kernels' own time.</summary>
    internal static class Timing
    {
        public static double Gemm(GemmVariants gemm, GemmVariant variant, GemmCase shape, int iterations)
        {
            var accelerator = gemm.Accelerator;
            using var a = accelerator.Allocate1D(Checks.Uniform(new Random(1), shape.M * shape.K, 1));
            using var b = accelerator.Allocate1D(Checks.Uniform(new Random(2), shape.K * shape.N, 1));
            using var c = accelerator.Allocate1D<float>((long)shape.M * shape.N);
            return Median(iterations, () => gemm.Gemm(variant, a.View, shape.TransposeA, b.View, shape.TransposeB, c.View, shape.M, shape.N, shape.K, 1f, 0f), accelerator);
        }

        public static double Recurrence(Accelerator accelerator, RecurrenceRunner runner, RecurrenceVariant variant, int steps, int batch, int hidden, int iterations)
        {
            var rng = new Random(3);
            using var gates = accelerator.Allocate1D(Checks.Uniform(rng, steps * batch * 4 * hidden, 1));
            using var cells = accelerator.Allocate1D<float>(steps * batch * hidden);
            using var hiddenStates = accelerator.Allocate1D<float>(steps * batch * hidden);
            using var h0 = accelerator.Allocate1D(new float[batch * hidden]);
            using var c0 = accelerator.Allocate1D(new float[batch * hidden]);
            using var weight = accelerator.Allocate1D(Checks.Uniform(rng, 4 * hidden * hidden, 0.1f));
            using var dH = accelerator.Allocate1D(Checks.Uniform(rng, steps * batch * hidden, 1));
            using var dc = accelerator.Allocate1D(new float[batch * hidden]);
            using var dPre = accelerator.Allocate1D<float>(steps * batch * 4 * hidden);

            // The values drift from run to run (gates are overwritten in place); only the time matters here.
            return Median(iterations, () => runner.Run(variant, gates.View, cells.View, hiddenStates.View, h0.View, c0.View, weight.View, dH.View, dc.View, dPre.View, steps, batch, hidden), accelerator);
        }

        private static double Median(int iterations, Action run, Accelerator accelerator)
        {
            for (int i = 0; i < 2; i++)
            {
                run();
            }

            accelerator.Synchronize();
            var ms = new double[iterations];
            for (int i = 0; i < iterations; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                run();
                accelerator.Synchronize();
                ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }

            Array.Sort(ms);
            return ms[iterations / 2];
        }
    }
}
