using BenchmarkDotNet.Running;
using Tensorlet.Bench.TrainStep;
using Tensorlet.Models.Data;

namespace Tensorlet.Bench;

/// <summary>
/// Entry point: BenchmarkDotNet suites (pass BenchmarkDotNet's own arguments, e.g. <c>--filter '*Gemm*' --job short</c>),
/// or <c>train-step ...</c>, a plain timing of the training step (see <see cref="TrainStepCommand"/>), or <c>quality ...</c>,
/// the LSTM and n-gram training run behind docs/quality.md (see <see cref="Quality.QualityCommand"/>), or <c>cuda-info</c>,
/// what the cuda device runs on (see <see cref="CudaInfoCommand"/>).
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "cuda-info")
        {
            return CudaInfoCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] is "train-step" or "quality")
        {
            try
            {
                return args[0] == "train-step" ? TrainStepCommand.Run(args[1..]) : Quality.QualityCommand.Run(args[1..]);
            }
            catch (Exception ex) when (ex is DeviceNotAvailableException or CorpusException)
            {
                // A missing device or corpus: one line that names it, no stack trace. (Bad arguments are reported by the
                // commands themselves; anything else keeps its stack trace, which a one-shot GPU run needs.)
                Console.Error.WriteLine($"{args[0]}: {ex.Message}");
                return 1;
            }
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
