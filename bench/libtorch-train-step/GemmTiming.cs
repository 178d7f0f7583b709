using System.Globalization;
using System.Text.Json;
using Tensorlet.Bench.Infrastructure;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// --model gemm: libtorch's matrix product (addmm into a preallocated C, as nn.Linear and autograd call it) on one of
/// the LSTM step's shapes, timed as Tensorlet.Bench's <c>gemm</c> command times the cpu GEMM, for bench/vs-libtorch.sh
/// to alternate them. With --copies N above 1, each call takes the next of N copies of A and B (Tensorlet's command
/// prints the count it chose to exceed the last-level cache), so the operands come from memory.
/// </summary>
internal static class GemmTiming
{
    /// <summary>The shapes' names (<see cref="StepGemmShape"/>).</summary>
    public static readonly string[] Shapes = Enum.GetNames<StepGemmShape>();

    public static int Run(string shape, int h, int copies)
    {
        var (m, n, k, transposeA, transposeB) = StepGemmShapes.Dimensions(Enum.Parse<StepGemmShape>(shape), h);
        copies = Math.Max(1, copies);
        var a = Enumerable.Range(0, copies).Select(_ => transposeA ? torch.rand(k, m).t() : torch.rand(m, k)).ToArray();
        var b = Enumerable.Range(0, copies).Select(_ => transposeB ? torch.rand(n, k).t() : torch.rand(k, n)).ToArray();
        var c = torch.zeros(m, n);
        int turn = 0;
        void Call()
        {
            int i = turn++ % copies;
            c.addmm_(a[i], b[i], beta: 0);
        }

        Call();
        double error = (c - torch.mm(a[0].to_type(ScalarType.Float64), b[0].to_type(ScalarType.Float64))).abs().max().item<double>();
        if (!(error <= 1e-3 * Math.Sqrt(k)))
        {
            Console.Error.WriteLine($"libtorch's GEMM is off by {error} on {shape}");
            return 1;
        }

        double flop = 2.0 * m * n * k;
        var ms = CallTiming.MillisecondsPerCall(Call, flop, copies);
        double median = ms[ms.Length / 2];
        double gflops = flop / median / 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"libtorch {torch.__version__} GEMM {shape} [{m}×{n}×{k}], {torch.get_num_threads()} threads, {copies} copies: median {median:F3} ms (min {ms[0]:F3}), {gflops:F1} GFLOP/s"));
        var report = new Dictionary<string, object>
        {
            ["impl"] = "libtorch",
            ["torch"] = torch.__version__,
            ["shape"] = shape,
            ["m"] = m,
            ["n"] = n,
            ["k"] = k,
            ["threads"] = torch.get_num_threads(),
            ["copies"] = copies,
            ["ms_median"] = Math.Round(median, 4),
            ["ms_min"] = Math.Round(ms[0], 4),
            ["gflops"] = Math.Round(gflops, 2),
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }
}
