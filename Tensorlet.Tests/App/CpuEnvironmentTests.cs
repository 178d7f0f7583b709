using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.App;

/// <summary>
/// The cpu device's environment variables (TENSORLET_CPU_VECTOR, TENSORLET_CPU_RECURRENCE, TENSORLET_CPU_HUGE_PAGES) are
/// read once per process, so each case runs the app as a child process: a value this machine cannot honour is one
/// "error: ..." line and exit code 1, before anything is written.
/// </summary>
public sealed class CpuEnvironmentTests
{
    [TestCase("TENSORLET_CPU_VECTOR", "1024", "TENSORLET_CPU_VECTOR=1024 is not one of 512, 256, 128, scalar.")]
    [TestCase("TENSORLET_CPU_RECURRENCE", "diagonal", "TENSORLET_CPU_RECURRENCE=diagonal is not one of split, wavefront.")]
    [TestCase("TENSORLET_CPU_HUGE_PAGES", "maybe", "TENSORLET_CPU_HUGE_PAGES=maybe is not one of on, off.")]
    public void AnUnknownValueIsOneErrorLine(string variable, string value, string message)
    {
        TrainWith(new Dictionary<string, string> { [variable] = value }, message);
    }

    [Test]
    public void AWidthThisCpuDoesNotAccelerateIsOneErrorLine()
    {
        // Vector512 with the child's JIT told not to use AVX-512 where the machine has it; else a width it lacks.
        var environment = new Dictionary<string, string>();
        string width = "512";
        if (CpuKernelPlan.IsSupported(CpuVectorWidth.Vector512))
        {
            environment["DOTNET_EnableAVX512"] = "0";
        }
        else if (!CpuKernelPlan.IsSupported(CpuVectorWidth.Vector256))
        {
            width = "256";
        }

        environment["TENSORLET_CPU_VECTOR"] = width;
        TrainWith(environment, $"TENSORLET_CPU_VECTOR={width} asks for Vector{width}, which this CPU does not accelerate");
    }

    [Test]
    public void ASettingThisCpuHonoursRunsAndTheDeviceLineSaysItWasAskedFor()
    {
        // Vector128 where the CPU accelerates it (every x86-64 and ARM64 one); scalar on one without SIMD, or a JIT told
        // to use none (DOTNET_EnableHWIntrinsic=0).
        var (value, width) = CpuKernelPlan.IsSupported(CpuVectorWidth.Vector128) ? ("128", "Vector128") : ("scalar", "Scalar");
        var folder = AppHarness.TempFolder();
        try
        {
            var result = AppHarness.RunChild(
                new Dictionary<string, string> { ["TENSORLET_CPU_VECTOR"] = value, ["TENSORLET_CPU_RECURRENCE"] = "split", ["TENSORLET_CPU_HUGE_PAGES"] = "off" },
                ["train", .. TrainArgs(folder)]);
            Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
            Assert.That(
                result.Stdout,
                Does.Contain($"{width} (TENSORLET_CPU_VECTOR)").And.Contain("recurrence split").And.Contain("no huge pages (TENSORLET_CPU_HUGE_PAGES=off)"),
                result.ToString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void TrainWith(Dictionary<string, string> environment, string message)
    {
        var folder = AppHarness.TempFolder();
        try
        {
            // The other variables empty, as if unset, whatever the test process was started with.
            foreach (var name in new[] { CpuKernelPlan.VectorVariable, CpuKernelPlan.RecurrenceVariable, CpuHugePages.Variable })
            {
                environment.TryAdd(name, "");
            }

            AppHarness.RunChild(environment, ["train", .. TrainArgs(folder)])
                .AssertError(1, $"Device 'cpu' cannot run as configured: {message}");
            Assert.That(Directory.Exists(Path.Combine(folder, "runs")), Is.False, "no run folder was made");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // A one-batch LSTM on a short text of the test's own.
    private static string[] TrainArgs(string folder)
    {
        var text = Path.Combine(folder, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 200)));
        return
        [
            "--text", text, "--model", "lstm", "--lstm-hidden", "16", "--lstm-layers", "2", "--batch", "8", "--epochs", "1",
            "--max-batches", "1", "--sample-length", "10", "--device", "cpu", "--threads", "2", "--runs-dir", Path.Combine(folder, "runs"),
        ];
    }
}
