using BenchmarkDotNet.Running;

namespace Tensorlet.Bench;

/// <summary>Entry point: BenchmarkDotNet suites (pass BenchmarkDotNet's own arguments, e.g. <c>--filter '*Gemm*' --job short</c>).</summary>
public static class Program
{
    /// <summary>Runs the benchmarks chosen on the command line.</summary>
    public static int Main(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
