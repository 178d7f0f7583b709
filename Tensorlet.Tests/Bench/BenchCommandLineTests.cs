using System.Diagnostics;
using System.Text.Json;
using NUnit.Framework;

namespace Tensorlet.Tests.Bench;

/// <summary>
/// Tensorlet.Bench's command line as its users meet it, run as a child process: a mistake is one line and a non-zero
/// exit, never a stack trace or a run that reports something other than what ran.
/// </summary>
public sealed class BenchCommandLineTests
{
    [TestCase(new[] { "train-stpe", "--batches", "2" }, 2, "unknown command 'train-stpe'; the commands are train-step")]
    [TestCase(new[] { "gemm", "--shape", "99" }, 2, "Argument '99' not recognized")]
    [TestCase(new[] { "train-step", "--synthetic", "--device", "ilgpu-cpu", "--recurrence", "split" }, 1, "--recurrence applies to the cpu device only, not ilgpu-cpu")]
    [TestCase(new[] { "train-step", "--synthetic", "--device", "ilgpu-cpu", "--threads", "1", "--hidden", "8", "--batches", "1" }, 1, "--threads applies to the cpu device only, not ilgpu-cpu")]
    [TestCase(new[] { "train-step", "--synthetic", "--hidden", "16384", "--batches", "1" }, 1, "at most 268,435,456 (2^28)")]
    [TestCase(new[] { "--filter", "*NoSuchBenchmark*" }, 1, "no benchmark ran")]
    [TestCase(new[] { "cuda-info", "extra" }, 2, "cuda-info: Unrecognized command or argument 'extra'")]
    [TestCase(new[] { "train-step", "--synthetic", "--model", "ngram", "--cell", "gru", "--layers", "7", "--dropout", "0.9" }, 2, "--cell, --layers, --dropout apply to --model lstm only; this run's model is ngram.")]
    [TestCase(new[] { "train-step", "--synthetic", "--model", "ngram", "--recurrence", "split" }, 2, "--recurrence applies to --model lstm only; this run's model is ngram.")]
    [TestCase(new[] { "train-step", "--synthetic", "--n", "4" }, 2, "--n applies to --model ngram only; this run's model is lstm.")]
    [TestCase(new[] { "quality", "--export-split", "" }, 2, "--export-split needs the folder to write train.txt and validation.txt in; got an empty path")]
    [TestCase(new[] { "train-step", "--synthetic", "--batches", "1", "--hidden", "8", "--layers", "1", "--batch", "20000" }, 2, "--batch 20000 is more than the 16828 sequences the data holds")]
    [TestCase(new[] { "train-step", "--synthetic", "--model", "ngram", "--batches", "1", "--batch", "1000000" }, 2, "--batch 1000000 is more than the 168280 windows the data holds")]
    [TestCase(new[] { "train-step", "--model", "cnn", "--cell", "gru", "--n", "4", "--hidden", "64" }, 2, "--cell applies to --model lstm only; --n applies to --model ngram only; --hidden applies to --model lstm or --model ngram only; this run's model is cnn.")]
    [TestCase(new[] { "train-step", "--model", "cnn", "--layers", "3", "--dropout", "0.1", "--recurrence", "split" }, 2, "--layers, --dropout, --recurrence apply to --model lstm only; this run's model is cnn.")]
    [TestCase(new[] { "train-step", "--model", "cnn", "--batches", "1", "--batch", "5000" }, 2, "--batch 5000 is more than the 2000 images the data holds")]
    public void AMistakeIsOneLineAndANonZeroExit(string[] args, int code, string fragment)
    {
        var (exit, _, stderr) = Run(args);

        Assert.That(exit, Is.EqualTo(code), stderr);
        Assert.That(stderr, Does.Contain(fragment));
        Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1), stderr);
    }

    [TestCase("train-step")]
    [TestCase("gemm")]
    [TestCase("peak")]
    [TestCase("quality")]
    [TestCase("cuda-info")]
    public void EveryCommandTakesHelp(string command)
    {
        // The top-level help says every command takes --help: it prints the command's usage, exit 0, and runs nothing.
        var (exit, stdout, stderr) = Run([command, "--help"]);

        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain($"Tensorlet.Bench {command} [options]"));
        Assert.That(stderr, Is.Empty);
    }

    [Test]
    public void AForcedWidthThatIsNotOneIsOneLineWithRecurrenceToo()
    {
        var (exit, _, stderr) = Run(["train-step", "--synthetic", "--recurrence", "split", "--batches", "1"], ("TENSORLET_CPU_VECTOR", "junk"));

        Assert.That((exit, stderr.Trim()), Is.EqualTo((1, "train-step: Device 'cpu' cannot run as configured: TENSORLET_CPU_VECTOR=junk is not one of 512, 256, 128, scalar.")));
    }

    [Test]
    public void AnExportSplitPathThatCannotBeWrittenIsOneLine()
    {
        string archive = Tensorlet.Tests.Infrastructure.TestData.CorpusArchive;
        string file = Path.GetTempFileName(); // a file where the folder should be
        try
        {
            var (exit, _, stderr) = Run(["quality", "--export-split", file], ("TENSORLET_DATA", Path.GetDirectoryName(archive)!));

            Assert.That(exit, Is.EqualTo(1), stderr);
            Assert.That(stderr.Trim(), Does.StartWith("quality: ").And.Contain(file));
            Assert.That(stderr, Does.Not.Contain("   at "), "no stack trace");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void AnExportSplitThatCannotWriteBothFilesWritesNeither()
    {
        // validation.txt is a folder: found before anything is written (and before the corpus is read, so the test runs
        // without it too), so train.txt keeps its content.
        string folder = Directory.CreateTempSubdirectory("export-split-").FullName;
        string empty = Directory.CreateTempSubdirectory("no-corpus-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "train.txt"), "OLD");
            Directory.CreateDirectory(Path.Combine(folder, "validation.txt"));

            var (exit, _, stderr) = Run(["quality", "--export-split", folder], ("TENSORLET_DATA", Tensorlet.Tests.Infrastructure.TestData.CorpusFolder ?? empty));

            Assert.That(exit, Is.EqualTo(1), stderr);
            Assert.That(stderr.Trim(), Is.EqualTo($"quality: {Path.Combine(folder, "validation.txt")} is a folder, where --export-split writes a file; neither train.txt nor validation.txt was written."));
            Assert.That(File.ReadAllText(Path.Combine(folder, "train.txt")), Is.EqualTo("OLD"));
            Assert.That(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories), Is.Empty);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(empty);
        }
    }

    [Test]
    public void AnExportSplitTakesNoTrainingFlags()
    {
        string parent = Directory.CreateTempSubdirectory("export-split-").FullName;
        try
        {
            string folder = Path.Combine(parent, "split");
            var (exit, _, stderr) = Run(["quality", "--export-split", folder, "--epochs", "2", "--device", "cpu"], ("TENSORLET_DATA", Tensorlet.Tests.Infrastructure.TestData.CorpusFolder ?? parent));

            Assert.That(exit, Is.EqualTo(2), stderr);
            Assert.That(stderr.Trim(), Is.EqualTo("quality: --epochs, --device are training flags; --export-split writes the split and trains nothing. (see quality --help)"));
            Assert.That(Directory.Exists(folder), Is.False, "nothing written");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Test]
    public void AnExportSplitWritesBothFilesInAFolderItMakes()
    {
        string archive = Tensorlet.Tests.Infrastructure.TestData.CorpusArchive;
        string parent = Directory.CreateTempSubdirectory("export-split-").FullName;
        try
        {
            string folder = Path.Combine(parent, "split");
            var (exit, stdout, stderr) = Run(["quality", "--export-split", folder], ("TENSORLET_DATA", Path.GetDirectoryName(archive)!));

            Assert.That(exit, Is.EqualTo(0), stderr);
            var train = File.ReadAllLines(Path.Combine(folder, "train.txt"));
            var validation = File.ReadAllLines(Path.Combine(folder, "validation.txt"));
            Assert.That(stdout, Does.Contain($"{train.Length + validation.Length} sequences: {train.Length} train, {validation.Length} validation"));
            Assert.That(train.Concat(validation), Has.All.Length.EqualTo(100));
            Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(2), "no temporary file left");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [TestCase(new[] { "--device", "bogus" }, "quality: Unknown device 'bogus'.")]
    [TestCase(new[] { "--device", "ilgpu-cpu", "--threads", "1" }, "quality: --threads applies to the cpu device only, not ilgpu-cpu.")]
    public void QualityChecksTheDeviceBeforeTheCorpus(string[] args, string error)
    {
        // No corpus where TENSORLET_DATA points: the device is the error shown, so it was checked first.
        string empty = Directory.CreateTempSubdirectory("no-corpus-").FullName;
        try
        {
            var (exit, _, stderr) = Run(["quality", .. args], ("TENSORLET_DATA", empty));

            Assert.That(exit, Is.EqualTo(1), stderr);
            Assert.That(stderr.Trim(), Does.StartWith(error));
            Assert.That(stderr.Trim().Split('\n'), Has.Length.EqualTo(1), stderr);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Test]
    public void TheReportSaysWhatRan()
    {
        // The n-gram MLP's width is the notebook's 100 unless given; it has no recurrence; the validated first batch is
        // a warm-up batch; more threads than the machine has are the threads it has.
        var (exit, stdout, stderr) = Run(["train-step", "--synthetic", "--model", "ngram", "--batches", "1", "--warmup", "0", "--threads", "4096"]);

        Assert.That(exit, Is.EqualTo(0), stderr);
        using var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var json = report.RootElement;
        Assert.That(json.GetProperty("hidden").GetInt32(), Is.EqualTo(100));
        Assert.That(json.GetProperty("recurrence").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(json.GetProperty("warmup").GetInt32(), Is.EqualTo(1));
        Assert.That(json.GetProperty("threads").GetInt32(), Is.InRange(1, Environment.ProcessorCount));
        Assert.That(stdout, Does.Contain("timed 1 batches after 1 warm-up"));
    }

    [Test]
    public void TheRnnStepCountsOneGateAndProfilesItsRecurrence()
    {
        // nn.RNN has one gate per unit: 3·98·2·B·H·H recurrent FLOPs and 3·2·(99·B)·H·32 for the output Linear, so
        // 1.82 MFLOP at B = 4, H = 16 (the LSTM's four gates would make it 3.63). Its fused recurrence (one layer, one
        // thread: not a wavefront) is filed with the other cells' recurrences, not among the other kernels.
        var (exit, stdout, stderr) = Run(["train-step", "--synthetic", "--cell", "rnn", "--hidden", "16", "--layers", "1", "--batch", "4", "--batches", "1", "--warmup", "0", "--threads", "1", "--profile"]);

        Assert.That(exit, Is.EqualTo(0), stderr);
        using var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var json = report.RootElement;
        Assert.That(json.GetProperty("model").GetString(), Is.EqualTo("rnn"));
        Assert.That(json.GetProperty("gemm_gflop_per_batch").GetDouble(), Is.EqualTo(0.0018));
        Assert.That(stdout, Does.Contain("RnnRecurrenceForward").And.Contain("RnnRecurrenceBackward"));
        Assert.That(json.GetProperty("profile").GetProperty("lstm_recurrence").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void TheCnnStepReportsImagesAndItsKernels()
    {
        // The CNN counts images, not characters, has no hidden width or layers, and its data is random whether or not
        // --synthetic is given; the profile lists the convolution's, pooling's and batch norm's kernels by name.
        var (exit, stdout, stderr) = Run(["train-step", "--model", "cnn", "--batch", "8", "--batches", "1", "--warmup", "0", "--threads", "1", "--profile"]);

        Assert.That(exit, Is.EqualTo(0), stderr);
        using var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var json = report.RootElement;
        Assert.That(json.GetProperty("model").GetString(), Is.EqualTo("cnn"));
        Assert.That(json.GetProperty("data").GetString(), Is.EqualTo("synthetic"));
        Assert.That(json.GetProperty("images_per_batch").GetInt32(), Is.EqualTo(8));
        Assert.That(json.GetProperty("images_per_s").GetDouble(), Is.GreaterThan(0));
        foreach (string absent in new[] { "chars_per_batch", "chars_per_s", "hidden", "layers", "recurrence", "n" })
        {
            Assert.That(json.GetProperty(absent).ValueKind, Is.EqualTo(JsonValueKind.Null), absent);
        }

        // 6.0169728 GFLOP at B = 100 (TrainStepFlops' remarks), scaled to 8 images.
        Assert.That(json.GetProperty("gemm_gflop_per_batch").GetDouble(), Is.EqualTo(0.4814));
        Assert.That(json.GetProperty("first_loss").GetDouble(), Is.EqualTo(Math.Log(10)).Within(0.5));
        Assert.That(stdout, Does.Contain("images/s"));
        Assert.That(stdout, Does.Contain("Unfold2d").And.Contain("Fold2d").And.Contain("MaxPool").And.Contain("BatchNormForward"));
        Assert.That(json.GetProperty("profile").GetProperty("other_kernels").GetDouble(), Is.GreaterThan(0));
    }

    [Test]
    public void GemmOnATinyShapeFinishes()
    {
        // 800 FLOP a call: sized by FLOP alone, each sample would be 50 million calls, minutes each. The samples are held
        // to about a second each, so the command returns (Run fails the test if it takes two minutes).
        var (exit, stdout, stderr) = Run(["gemm", "--shape", "Recurrent", "--hidden", "1", "--threads", "1"]);

        Assert.That(exit, Is.EqualTo(0), stderr);
        using var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.That(report.RootElement.GetProperty("shape").GetString(), Is.EqualTo("Recurrent"));
        Assert.That(report.RootElement.GetProperty("ms_min").GetDouble(), Is.LessThanOrEqualTo(report.RootElement.GetProperty("ms_median").GetDouble()));
    }

    [Test]
    public void GemmReportsTheThreadsItRanAndColdCopiesThatExceedTheCache()
    {
        // 64 copies of this shape's A and B (270 KB) sit in any last-level cache; more threads than the machine has are
        // the threads it has.
        var (exit, stdout, stderr) = Run(["gemm", "--shape", "Recurrent", "--hidden", "8", "--cold", "--threads", "4096"]);

        Assert.That(exit, Is.EqualTo(0), stderr);
        using var report = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var json = report.RootElement;
        int threads = json.GetProperty("threads").GetInt32();
        Assert.That(threads, Is.InRange(1, Environment.ProcessorCount));
        Assert.That(stdout, Does.Contain($", {threads} threads, operands cold ({json.GetProperty("copies").GetInt32()} copies"));
        long copyBytes = (100 * 8 + 8 * 32) * sizeof(float);
        Assert.That(json.GetProperty("operand_bytes").GetInt64(), Is.EqualTo(json.GetProperty("copies").GetInt64() * copyBytes));
        Assert.That(json.GetProperty("operand_bytes").GetInt64(), Is.GreaterThan(json.GetProperty("last_level_cache_bytes").GetInt64()));
        Assert.That(json.GetProperty("last_level_cache_bytes").GetInt64(), Is.GreaterThan(0));
    }

    // Runs Tensorlet.Bench (built beside the tests, same configuration) and waits for it.
    private static (int Exit, string Stdout, string Stderr) Run(string[] args, params (string Name, string Value)[] environment)
    {
        var tests = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string bench = Path.Combine(tests.Parent!.Parent!.Parent!.Parent!.FullName, "Tensorlet.Bench", "bin", tests.Parent.Name, tests.Name, "Tensorlet.Bench.dll");
        Assert.That(File.Exists(bench), Is.True, $"{bench} is built with the solution");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(bench);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        // Both streams are read in the background, so that the limit holds also for a child that prints nothing and
        // never exits (reading either to its end would wait for the exit).
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"Tensorlet.Bench {string.Join(' ', args)} did not exit within 2 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
