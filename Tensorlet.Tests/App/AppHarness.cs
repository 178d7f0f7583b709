using System.Diagnostics;
using NUnit.Framework;
using Tensorlet.Samples.CharPredict;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

/// <summary>Runs CharPredict in-process on a slice of the real corpus, with tiny models on <c>cpu</c>.</summary>
internal static class AppHarness
{
    /// <summary>Sequences the app tests use: enough for a few batches, quick to split and train on.</summary>
    public const int Sequences = 300;

    private static readonly Lazy<string> SharedRunFolder = new(TrainSharedRun, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The corpus slice's options: --data ARCHIVE --max-sequences 300 (skips the test without the corpus).</summary>
    public static string[] DataArgs => ["--data", TestData.CorpusArchive, "--max-sequences", Sequences.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>Tiny models and short epochs: 3 batches of 100 (the n-gram model's batches are windows).</summary>
    public static string[] TinyTrainArgs =>
    [
        "--device", "cpu", "--threads", "2", "--n", "3", "--ngram-hidden", "8", "--lstm-hidden", "16", "--lstm-layers", "2",
        "--lstm-dropout", "0.2", "--max-batches", "3", "--batch", "50", "--sample-length", "20", .. DataArgs,
    ];

    /// <summary>A run of both tiny models, 2 epochs, trained once and shared by the read-only tests.</summary>
    public static string SharedRun => SharedRunFolder.Value;

    /// <summary>A fresh temporary folder (each test deletes its own).</summary>
    public static string TempFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "tensorlet-app-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Runs the app and captures what it writes.</summary>
    public static AppResult Run(params string[] args) => Run(CancellationToken.None, args);

    /// <summary>Runs the app with a cancellation token and captures what it writes.</summary>
    public static AppResult Run(CancellationToken cancellation, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CharPredictApp.Run(args, stdout, stderr, cancellation);
        return new AppResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// How to start the app as a child process (<c>dotnet CharPredict.dll ARGS</c>, output redirected), for what only a
    /// process of its own shows: signals, and settings read once per process from the environment.
    /// </summary>
    public static ProcessStartInfo ChildStartInfo(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(CharPredictApp).Assembly.Location);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    /// <summary>Runs the app as a child process with these environment variables set, and captures what it writes.</summary>
    public static AppResult RunChild(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = ChildStartInfo(args);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        if (!child.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail("the app did not exit within 2 minutes");
        }

        return new AppResult(child.ExitCode, stdout, stderr.Result);
    }

    /// <summary>The single run folder under <paramref name="runsDir"/>.</summary>
    public static string OnlyRun(string runsDir)
    {
        var runs = Directory.GetDirectories(runsDir);
        Assert.That(runs, Has.Length.EqualTo(1), "train makes exactly one run folder");
        return runs[0];
    }

    /// <summary>Deletes the shared run, if it was made.</summary>
    public static void DeleteSharedRun()
    {
        if (SharedRunFolder.IsValueCreated && Path.GetDirectoryName(SharedRunFolder.Value) is { } runs && Directory.Exists(runs))
        {
            Directory.Delete(runs, recursive: true);
        }
    }

    private static string TrainSharedRun()
    {
        var runs = TempFolder();
        var result = Run(["train", "--model", "both", "--epochs", "2", "--runs-dir", runs, .. TinyTrainArgs]);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        return OnlyRun(runs);
    }
}

/// <summary>What one run of the app did.</summary>
internal sealed record AppResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Standard error's non-empty lines.</summary>
    public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Asserts the bad-input contract: exit code <paramref name="code"/>, one "error: ..." line containing <paramref name="fragment"/>, no stack trace.</summary>
    public void AssertError(int code, string fragment)
    {
        Assert.Multiple(() =>
        {
            Assert.That(ExitCode, Is.EqualTo(code), ToString());
            Assert.That(ErrorLines, Has.Length.EqualTo(1), ToString());
            Assert.That(Stderr, Does.StartWith("error: "));
            Assert.That(Stderr, Does.Contain(fragment).IgnoreCase);
            Assert.That(Stderr, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(Stderr, Does.Not.Contain("(Parameter '"), "no .NET parameter name");
        });
    }

    /// <inheritdoc/>
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}
