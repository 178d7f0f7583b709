using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.CommandLine;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench;

/// <summary>
/// <c>gemm --shape S [--hidden H] [--threads T] [--cold]</c>: a plain timing of the cpu GEMM on one of the LSTM step's
/// shapes (<see cref="StepGemmShape"/>), as the step calls it (B packed by the call), for
/// bench/vs-libtorch.sh to alternate with libtorch's on the same shape. With <c>--cold</c> each call takes the next of
/// enough copies of A and B to fill twice the last-level cache, however small one copy is, so the operands come from
/// memory, as in the training step, where every large operand was written by an earlier kernel over tens of megabytes.
/// C is checked against float64 before any timing. Prints a summary line, then one JSON object (keys as train-step's
/// where they mean the same): the threads are those the kernels run on (at most the thread team's size), and with
/// <c>--cold</c> the copies' bytes stand beside the last-level cache's.
/// </summary>
internal static class GemmCommand
{
    /// <summary>The <c>gemm</c> command.</summary>
    public static Command Command()
    {
        var shape = new Option<StepGemmShape>("--shape") { Description = "The multiplication of the LSTM step", Required = true };

        // An enum option also parses numbers, any int: only the names are shapes.
        shape.AcceptOnlyFromAmong(Enum.GetNames<StepGemmShape>());
        var hidden = OptionParsing.Number("--hidden", "Hidden width H", 256, NumberRange<int>.Positive(4_096));
        var threads = OptionParsing.Number("--threads", "CPU threads (0: all cores)", 0, new NumberRange<int>(0, 4_096));
        var cold = new Option<bool>("--cold") { Description = "Cycle through copies of A and B larger than the last-level cache" };
        var command = new Command("gemm", "Time the cpu GEMM on one of the LSTM training step's shapes") { shape, hidden, threads, cold };
        command.SetAction(r => Run(r.GetValue(shape), r.GetValue(hidden), r.GetValue(threads), r.GetValue(cold)));
        return command;
    }

    private static int Run(StepGemmShape shape, int h, int threads, bool cold)
    {
        CpuKernelPlan plan;
        try
        {
            plan = CpuKernelPlan.Machine;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"gemm: {e.Message}");
            return 1;
        }

        // The threads the kernels run on: more than the thread team has are cut to its size, as the cpu device does.
        threads = Math.Min(threads == 0 ? CpuCores.Machine : threads, CpuThreadTeam.MaxThreads);
        var (m, n, k, transposeA, transposeB) = StepGemmShapes.Dimensions(shape, h);
        long operandBytes = ((long)m * k + (long)k * n) * sizeof(float);

        // Cold: enough copies of A and B to fill twice the last-level cache (the L2 where there is no L3), however small
        // one copy is, so each call's operands were evicted since its last turn.
        long lastLevelBytes = plan.Caches.L3Bytes > 0 ? plan.Caches.L3Bytes : plan.Caches.L2Bytes;
        int copies = cold ? (int)Math.Max((2 * lastLevelBytes / operandBytes) + 1, 2) : 1;
        var rng = new Random(42);
        var a = Enumerable.Range(0, copies).Select(_ => GemmBenchmarkData.Random(rng, m * k)).ToArray();
        var b = Enumerable.Range(0, copies).Select(_ => GemmBenchmarkData.Random(rng, k * n)).ToArray();
        var c = GemmBenchmarkData.Zeros(m * n);
        int turn = 0;
        void Call()
        {
            int i = turn++ % copies;
            CpuGemm.Gemm(transposeA, transposeB, m, n, k, 1f, a[i], b[i], 0f, c, threads, plan.Gemm);
        }

        Call();
        GemmBenchmarkData.Validate(shape, h, a[0], b[0], c, "cpu");

        double flop = 2.0 * m * n * k;
        var ms = CallTiming.MillisecondsPerCall(Call, flop, copies);
        double median = ms[ms.Length / 2];
        double gflops = flop / median / 1e6;
        string layout = $"{(transposeA ? "Aᵀ" : "A")}·{(transposeB ? "Bᵀ" : "B")}";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cpu GEMM {shape} {layout} [{m}×{n}×{k}], {threads} threads, {(cold ? $"operands cold ({copies} copies, {copies * operandBytes / 1048576.0:F1} MiB; last-level cache {lastLevelBytes / 1048576.0:F1} MiB)" : "operands hot")}: median {median:F3} ms (min {ms[0]:F3}), {gflops:F1} GFLOP/s [{plan.Describe()}]"));
        var report = new Dictionary<string, object>
        {
            ["impl"] = "tensorlet",
            ["shape"] = shape.ToString(),
            ["m"] = m,
            ["n"] = n,
            ["k"] = k,
            ["threads"] = threads,
            ["cold"] = cold,
            ["copies"] = copies,
            ["operand_bytes"] = copies * operandBytes,
            ["last_level_cache_bytes"] = lastLevelBytes,
            ["ms_median"] = Math.Round(median, 4),
            ["ms_min"] = Math.Round(ms[0], 4),
            ["gflops"] = Math.Round(gflops, 2),
            ["cpu_plan"] = plan.Describe(),
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }
}
