using System.CommandLine;
using BenchmarkDotNet.Running;
using Tensorlet.Bench.TrainStep;
using Tensorlet.CommandLine;
using Tensorlet.Models.Data;

namespace Tensorlet.Bench;

/// <summary>
/// Entry point: BenchmarkDotNet suites (pass BenchmarkDotNet's own arguments, e.g. <c>--filter '*Gemm*' --job short</c>),
/// or <c>train-step ...</c>, a plain timing of the training step (see <see cref="TrainStepCommand"/>), or <c>gemm ...</c>, of
/// the cpu GEMM on one of its shapes (see <see cref="GemmCommand"/>), or <c>peak ...</c>, the FMA peak now (see
/// <see cref="PeakCommand"/>), or <c>quality ...</c>,
/// the LSTM and n-gram training run behind docs/quality.md (see <see cref="Quality.QualityCommand"/>), or <c>cuda-info</c>,
/// what the cuda device runs on (see <see cref="CudaInfoCommand"/>).
/// </summary>
public static class Program
{
    private static readonly string[] Commands = ["train-step", "gemm", "peak", "quality", "cuda-info"];

    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static int Main(string[] args)
    {
        if (args is ["train-step" or "quality" or "gemm" or "peak" or "cuda-info", ..])
        {
            return RunCommand(args);
        }

        // BenchmarkDotNet takes options only: a first word that is not one is a mistyped command, which it would treat
        // as a benchmark name and, finding none, ask for interactively.
        if (args is [var first, ..] && !first.StartsWith('-'))
        {
            Console.Error.WriteLine($"Tensorlet.Bench: unknown command '{first}'; the commands are {string.Join(", ", Commands)}, and BenchmarkDotNet's options (--filter ...) run the suites.");
            return 2;
        }

        bool helpOrList = args.Any(a => a is "--help" or "-h" or "-?" or "--list" or "--info" or "--version");
        if (args.Any(a => a is "--help" or "-h" or "-?"))
        {
            Console.WriteLine($"Tensorlet.Bench commands: {string.Join(", ", Commands)} (each with --help). Without one, BenchmarkDotNet runs the suites:");
        }

        // Exit 1 when a benchmark did not run through: a critical validation error, a failed build, or an exception, such
        // as a variant that disagrees with its float64 reference in its setup. BenchmarkDotNet itself returns normally,
        // also when its options are wrong or the filter matches nothing; then no benchmark ran, which is a failure too.
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        if (!helpOrList && summaries.Sum(s => s.Reports.Length) == 0)
        {
            Console.Error.WriteLine("Tensorlet.Bench: no benchmark ran (see BenchmarkDotNet's message above: an unknown option or job, or a --filter that matches nothing).");
            return 1;
        }

        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    // train-step, gemm, peak, quality and cuda-info, parsed by System.CommandLine: a bad argument is one line and exit 2.
    private static int RunCommand(string[] args)
    {
        var root = new RootCommand("Tensorlet's benchmarks: BenchmarkDotNet suites, train-step, gemm, peak, quality and cuda-info")
        {
            TrainStepOptions.Command(TrainStepCommand.Run),
            Quality.QualityCommand.Command(),
            GemmCommand.Command(),
            PeakCommand.Command(),
            CudaInfoCommand.Command(),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"{args[0]}: {OptionParsing.ErrorLine(parsed)} (see {args[0]} --help)");
            return 2;
        }

        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is DeviceNotAvailableException or CorpusException or ArgumentException or OutOfMemoryException
            or IOException or UnauthorizedAccessException)
        {
            // A missing device or corpus, sizes no model can have, more memory than the machine has, or a path that cannot
            // be written: one line that says so, no stack trace. (Anything else keeps its stack trace, which a one-shot
            // GPU run needs.)
            Console.Error.WriteLine($"{args[0]}: {(ex is OutOfMemoryException ? "out of memory; use a smaller --batch or --hidden" : ex.Message)}");
            return 1;
        }
    }
}
