using System.Diagnostics;
using NUnit.Framework;

namespace Tensorlet.Tests.NewsgroupClassifier;

/// <summary>
/// samples/NewsgroupClassifier as its users run it: a child process. The sample builds against the packed NuGet
/// packages and stays out of Tensorlet.sln (scripts/pack-and-consume.sh builds it that way), so the tests cannot
/// reference it; instead, the first run compiles its sources, unchanged, into a small project beside the test assembly
/// that references the Tensorlet assemblies the tests were built with (no package restore, no network). Later runs
/// reuse that build, which MSBuild brings up to date incrementally.
/// </summary>
internal static class NewsgroupClassifierApp
{
    // The assemblies the sample uses, directly or through Tensorlet.Models, all beside the test assembly.
    private static readonly string[] References =
        ["Tensorlet.Models", "Tensorlet.Core", "Tensorlet.Kernels", "ILGPU", "ILGPU.Algorithms", "System.CommandLine"];

    private static readonly Lazy<string> Dll = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The exit code and the output of one run.</summary>
    internal readonly record struct Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <summary>Asserts a failure reported as one line on standard error, with no stack trace, that contains <paramref name="fragment"/>.</summary>
        public void AssertOneLineError(int exitCode, string fragment)
        {
            Assert.That(ExitCode, Is.EqualTo(exitCode), Stderr);
            Assert.That(Stderr, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(Stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), Stderr);
            Assert.That(Stderr, Does.StartWith("error: ").And.Contain(fragment));
        }
    }

    /// <summary>Runs the sample with <paramref name="args"/>, and with <paramref name="environment"/> added to its environment.</summary>
    public static Result Run(string[] args, params (string Name, string Value)[] environment)
    {
        var start = Start(Dll.Value);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var (exit, stdout, stderr) = Wait(start, TimeSpan.FromMinutes(2), $"NewsgroupClassifier {string.Join(' ', args)}");
        return new Result(exit, stdout, stderr);
    }

    // Writes the project and builds it; the path of the built NewsgroupClassifier.dll.
    private static string Build()
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var root = tests;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Tensorlet.sln")))
        {
            root = root.Parent;
        }

        Assert.That(root, Is.Not.Null, $"no Tensorlet.sln above {tests.FullName}");
        string sources = Path.Combine(root!.FullName, "samples", "NewsgroupClassifier");

        // Under the test output, so the repository's Directory.Build.props (nullable, warnings as errors, the target
        // framework) applies as it does to the sample itself, and nothing is written into the source tree.
        string folder = Path.Combine(tests.FullName, "NewsgroupClassifierBuild");
        Directory.CreateDirectory(folder);
        string references = string.Concat(References.Select(name =>
            $"\n    <Reference Include=\"{Path.Combine(tests.FullName, name + ".dll")}\" />"));
        string project = $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <AssemblyName>NewsgroupClassifier</AssemblyName>
                <RootNamespace>Tensorlet.Samples.NewsgroupClassifier</RootNamespace>
                <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
                <IsPackable>false</IsPackable>
              </PropertyGroup>
              <ItemGroup>
                <Compile Include="{Path.Combine(sources, "*.cs")}" />
                <Compile Include="{Path.Combine(root.FullName, "samples", "CharPredict", "OptionParsing.cs")}" />
              </ItemGroup>
              <ItemGroup>{references}
              </ItemGroup>
            </Project>

            """;
        string path = Path.Combine(folder, "NewsgroupClassifier.csproj");
        if (!File.Exists(path) || File.ReadAllText(path) != project)
        {
            File.WriteAllText(path, project); // rewritten only when it changes, so a rebuild stays incremental
        }

        var start = new ProcessStartInfo(DotnetHost());
        foreach (var arg in new[] { "build", path, "-c", "Release", "-nologo", "-v", "q", "--disable-build-servers" })
        {
            start.ArgumentList.Add(arg);
        }

        var (exit, stdout, stderr) = Wait(start, TimeSpan.FromMinutes(4), "dotnet build of samples/NewsgroupClassifier");
        Assert.That(exit, Is.EqualTo(0), $"samples/NewsgroupClassifier did not build against the test's assemblies:\n{stdout}\n{stderr}");
        string dll = Path.Combine(folder, "bin", "Release", tests.Name, "NewsgroupClassifier.dll");
        Assert.That(File.Exists(dll), Is.True, $"{dll} was not built");
        return dll;
    }

    private static ProcessStartInfo Start(string dll)
    {
        var start = new ProcessStartInfo(DotnetHost());
        start.ArgumentList.Add(dll);
        return start;
    }

    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    // Starts the process, reads its output and waits for it; kills it and fails the test after `limit`.
    private static (int Exit, string Stdout, string Stderr) Wait(ProcessStartInfo start, TimeSpan limit, string what)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{what} did not exit within {limit.TotalMinutes} minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
