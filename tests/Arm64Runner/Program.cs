using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Text.RegularExpressions;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

// Runs Tensorlet.Tests' CPU kernel tests in this process (NUnit's NUnitTestAssemblyRunner) and prints the machine it ran
// on, each failure, and "N passed, N failed, N skipped". Exit code: 0 when nothing failed and something passed, 1 otherwise.
// Usage: Arm64Runner [prefix ...]: the tests whose full names start with a prefix (default: the kernel, layer, model and
// tensor tests); test cases on ilgpu-cpu or cuda, the PTX checks, and the check that the kernel backs a large buffer with
// huge pages (qemu-user takes madvise as a hint it drops, so the guest never gets them) are left out.
string[] prefixes = args.Length > 0 ? args : ["Tensorlet.Tests.Kernels.", "Tensorlet.Tests.Nn.", "Tensorlet.Tests.Models.", "Tensorlet.Tests.Core."];

var testAssembly = typeof(Tensorlet.Tests.Infrastructure.TestDevices).Assembly;
var kernels = Assembly.Load("Tensorlet.Kernels");
var plan = kernels.GetType("Tensorlet.Kernels.Cpu.CpuKernelPlan", throwOnError: true)!;
object machinePlan = plan.GetProperty("Machine")!.GetValue(null)!;
string describe = (string)plan.GetMethod("Describe")!.Invoke(machinePlan, null)!;

Console.WriteLine($"process architecture: {RuntimeInformation.ProcessArchitecture}, runtime: {RuntimeInformation.FrameworkDescription}");
Console.WriteLine($"AdvSimd.IsSupported: {AdvSimd.IsSupported}, Vector128.IsHardwareAccelerated: {Vector128.IsHardwareAccelerated}, Vector256.IsHardwareAccelerated: {Vector256.IsHardwareAccelerated}, Vector512.IsHardwareAccelerated: {Vector512.IsHardwareAccelerated}");
Console.WriteLine($"CPU plan: {describe}");

string scope = System.Security.SecurityElement.Escape("^(?:" + string.Join("|", prefixes.Select(Regex.Escape)) + ")");
var filter = TestFilter.FromXml($"<filter><and><test re=\"1\">{scope}</test><not><test re=\"1\">ilgpu|cuda|Ptx|LargeBufferIsBackedByHugePages</test></not></and></filter>");

var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
runner.Load(testAssembly, new Dictionary<string, object>());
var listener = new Listener();
var result = runner.Run(listener, filter);

foreach (var line in listener.Failures)
{
    Console.WriteLine(line);
}

Console.WriteLine($"{listener.Passed} passed, {listener.Failed} failed, {listener.Skipped} skipped ({string.Join(", ", prefixes)}; {result.Duration:F0} s)");
foreach (var reason in listener.SkipReasons.GroupBy(r => r).OrderByDescending(g => g.Count()))
{
    Console.WriteLine($"  skipped {reason.Count()}×: {reason.Key}");
}

return listener.Failed == 0 && listener.Passed > 0 ? 0 : 1;

/// <summary>Counts the leaf test results as they finish and keeps each failure's message.</summary>
internal sealed class Listener : ITestListener
{
    public int Passed { get; private set; }

    public int Failed { get; private set; }

    public int Skipped { get; private set; }

    public List<string> Failures { get; } = [];

    public List<string> SkipReasons { get; } = [];

    public void TestStarted(ITest test)
    {
    }

    public void TestFinished(ITestResult result)
    {
        if (result.Test.IsSuite)
        {
            if (result.ResultState.Status == TestStatus.Failed && result.ResultState.Site is FailureSite.SetUp or FailureSite.TearDown)
            {
                Failed++;
                Failures.Add($"FAILED {result.FullName} ({result.ResultState.Site}): {result.Message}");
            }

            return;
        }

        switch (result.ResultState.Status)
        {
            case TestStatus.Passed:
                Passed++;
                break;
            case TestStatus.Failed:
                Failed++;
                Failures.Add($"FAILED {result.FullName}: {result.Message}\n{result.StackTrace}");
                break;
            default:
                Skipped++;
                SkipReasons.Add(result.Message?.Trim() ?? result.ResultState.ToString());
                break;
        }

        Console.Out.Flush();
    }

    public void TestOutput(TestOutput output)
    {
    }

    public void SendMessage(TestMessage message)
    {
    }
}
