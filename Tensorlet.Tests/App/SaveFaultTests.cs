using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.App;

/// <summary>
/// Kills CharPredict (a child process, <c>dotnet CharPredict.dll train</c>) with SIGKILL at every step of its
/// checkpoint saves, the first one included, then resumes the run in-process: the resume must never refuse, and must
/// end with exactly the weights, optimizer state and metrics of a run that was never interrupted. The child is
/// tests/SaveFaultChild: CharPredict with an observer of the save steps (Tensorlet.Models/Checkpoints/SaveStep.cs)
/// that announces each step of every atomic write on standard error and pauses there, so the kill lands at a known step.
/// </summary>
[NonParallelizable]
public sealed class SaveFaultTests
{
    // Long enough for the test to see the announcement and kill before the child moves on; a kill that comes
    // late lands at a later step, which is still a valid kill point.
    private const int PauseMilliseconds = 60;

    // The Ctrl+C test needs both signals inside the first save, so it pauses longer: this test process reads the child's
    // announcements from a pipe on the thread pool, and on a busy machine that read can lag by a few hundred milliseconds,
    // enough at 60 ms a step for the first signal to land in the second save.
    private const int SigIntPauseMilliseconds = 250;

    // One tiny LSTM, 2 epochs of 2 batches: two checkpoint saves, the second one replacing the first.
    private const int Epochs = 2;

    private string? folder;
    private string data = null!;

    [OneTimeSetUp]
    public void CreateFolder()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            Assert.Ignore("The save fault test sends POSIX signals (SIGKILL, SIGINT); this is not a POSIX system.");
        }

        data = TestData.CorpusArchive;
        folder = AppHarness.TempFolder();
    }

    [OneTimeTearDown]
    public void DeleteFolder()
    {
        if (folder is not null && Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private string[] TrainArgs(string runs) =>
    [
        "train", "--model", "lstm", "--epochs", Epochs.ToString(CultureInfo.InvariantCulture), "--runs-dir", runs, "--device", "cpu", "--threads", "2",
        "--lstm-hidden", "16", "--lstm-layers", "2", "--lstm-dropout", "0.2", "--max-batches", "2", "--batch", "20", "--sample-length", "0",
        "--data", data, "--max-sequences", "120",
    ];

    [Test]
    [CancelAfter(180_000)]
    public void AKillAtAnyStepOfASaveResumesFromTheOldOrTheNewCheckpointExactly()
    {
        var reference = AppHarness.Run(TrainArgs(Path.Combine(folder!, "reference")));
        Assert.That(reference.ExitCode, Is.EqualTo(0), reference.ToString());
        var referenceRun = AppHarness.OnlyRun(Path.Combine(folder!, "reference"));
        var expected = State(referenceRun);
        var expectedLosses = Losses(referenceRun);

        // The steps announced for the LSTM's files. The first save has 10: the optimizer file's temporary created (1),
        // written (2), renamed (3); the model file's temporary created (4), written (5), renamed (6, the commit); the
        // old optimizer files deleted (7); then the saved mark lstm.saved created (8), written (9), renamed (10). The
        // second save has the first 7 again (11-17), the mark already there.
        // One kill in each state a kill can leave. First save: 2 a complete optimizer file, no model file, and the
        // epoch's metrics row (written before the checkpoint); 5 that, and a complete model temporary; 7 the first pair
        // committed, no mark; 9 the mark's temporary written. Second save (a previous pair exists): 11 a 0-byte
        // optimizer temporary; 13 a complete optimizer file the model file does not name; 15 that, and a complete
        // model temporary; 16 the new pair committed, the old optimizer file not yet deleted; 17 all done. (Each kill
        // costs a child process that loads the corpus, about 3 s here; the steps left out leave the same files as one
        // of these.)
        int[] targets = [2, 5, 7, 9, 11, 13, 15, 16, 17];
        var kills = new List<string>();
        foreach (int target in targets)
        {
            var runs = Path.Combine(folder!, $"kill-{target}");
            var (killedAt, commits, log) = RunChildAndKill(TrainArgs(runs), target);
            Assert.That(killedAt, Is.Not.Null, $"the child finished before checkpoint step {target}:\n{log}");
            kills.Add(killedAt!);
            var run = AppHarness.OnlyRun(runs);

            // Whatever the kill left is a whole pair, the previous or the new one (a kill comes at or after the step
            // it was aimed at); or, before the first commit, no checkpoint and no saved mark, but the epoch's row.
            var model = Path.Combine(run, "lstm.safetensors");
            if (File.Exists(model))
            {
                var checkpoint = ModelCheckpoint.Read(model);
                using var device = Device.Create("cpu", 1);
                using var loaded = checkpoint.CreateModel(device);
                using var adam = new Tensorlet.Optim.Adam(loaded.Parameters, 0.01f);
                Assert.DoesNotThrow(() => checkpoint.LoadOptimizerState(loaded, adam), $"killed at {killedAt}");
                Assert.That(checkpoint.Position.Epoch, Is.InRange(commits, commits + 1), $"killed at {killedAt}: the previous or the new checkpoint");
            }
            else
            {
                Assert.That(commits, Is.Zero, $"killed at {killedAt}: a committed checkpoint is never lost");
                Assert.That(File.Exists(Path.Combine(run, "lstm.saved")), Is.False, $"killed at {killedAt}: no saved mark before the first commit");
                Assert.That(Losses(run), Has.Some.StartsWith("lstm,1,"), $"killed at {killedAt}: the metrics row that once made resume refuse");
            }

            var resumed = AppHarness.Run("train", "--resume", run);
            Assert.That(resumed.ExitCode, Is.EqualTo(0), $"killed at {killedAt}\n{resumed}");
            Assert.That(State(run), Is.EqualTo(expected), $"killed at {killedAt}: the resumed run must end where the uninterrupted one did");
            Assert.That(Losses(run), Is.EqualTo(expectedLosses), $"killed at {killedAt}: one metrics row per epoch, with the uninterrupted run's losses");
            Assert.That(File.Exists(Path.Combine(run, "lstm.saved")), Is.True, $"killed at {killedAt}: the saved mark after the resume");
            Assert.That(Directory.GetFiles(run, ".*").Select(Path.GetFileName), Is.EqualTo(new[] { ".train.lock" }), $"killed at {killedAt}: no temporary file after the resume, only the lock train holds the run by");
            Assert.That(Directory.GetFiles(run, "lstm.optimizer.*"), Has.Length.EqualTo(1), $"killed at {killedAt}: one optimizer file");
        }

        TestContext.Out.WriteLine($"{kills.Count} kills: {string.Join("; ", kills)}");
    }

    [Test]
    [CancelAfter(60_000)]
    public void ASecondCtrlCDuringASaveWaitsForTheSaveToFinish()
    {
        var runs = Path.Combine(folder!, "sigint");
        using var child = StartChild(TrainArgs(runs), SigIntPauseMilliseconds);
        var log = new StringBuilder();
        int announced = 0;
        int interruptedAt = -1;
        var done = new ManualResetEventSlim();
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                done.Set();
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
                if (IsCheckpointStep(e.Data))
                {
                    announced++;

                    // Both Ctrl+Cs land inside the first checkpoint save: at its optimizer file, then at its model file.
                    if (announced is 1 or 4)
                    {
                        interruptedAt = Signal(child.Id, SigInt) == 0 ? announced : -2;
                    }
                }
            }
        };
        child.BeginErrorReadLine();
        child.BeginOutputReadLine();
        child.WaitForExit();
        done.Wait();

        string text;
        lock (log)
        {
            text = log.ToString();
        }

        Assert.That(interruptedAt, Is.EqualTo(4), text);
        Assert.That(text, Does.Contain("tensorlet-save-step: committed lstm.safetensors"), "the save that the second Ctrl+C interrupted finished first");
        var run = AppHarness.OnlyRun(runs);
        var resumed = AppHarness.Run("train", "--resume", run);
        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.Stdout, Does.Contain("resuming at epoch 2"), "the run continued from the saved checkpoint");
    }

    private const int SigInt = 2;

    // A step of the LSTM checkpoint's save: its optimizer file, its model file or its saved mark (the epoch's
    // lstm.history.json and lstm.best.safetensors, written before the checkpoint, are not counted).
    private static bool IsCheckpointStep(string line) => line.StartsWith("tensorlet-save-step: ", StringComparison.Ordinal)
        && (line.Contains("lstm.optimizer.", StringComparison.Ordinal) || line.Contains("lstm.safetensors", StringComparison.Ordinal) || line.Contains("lstm.saved", StringComparison.Ordinal));

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);

    private Process StartChild(string[] args, int pauseMilliseconds = PauseMilliseconds)
    {
        // tests/SaveFaultChild, built beside the tests in the same configuration.
        var tests = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string child = Path.Combine(tests.Parent!.Parent!.Parent!.Parent!.FullName, "tests", "SaveFaultChild", "bin", tests.Parent.Name, tests.Name, "Tensorlet.SaveFaultChild.dll");
        Assert.That(File.Exists(child), Is.True, $"{child} is built with the tests");
        var start = AppHarness.ChildStartInfo(args);
        start.ArgumentList[0] = child;
        start.ArgumentList.Insert(1, pauseMilliseconds.ToString(CultureInfo.InvariantCulture));
        return Process.Start(start)!;
    }

    // Runs the child and SIGKILLs it at the target-th step announced for the LSTM's files; commits counts the model
    // file's renames announced up to the kill.
    private (string? KilledAt, int Commits, string Log) RunChildAndKill(string[] args, int target)
    {
        using var child = StartChild(args);
        var log = new StringBuilder();
        string? killedAt = null;
        int announced = 0;
        int commits = 0;
        var done = new ManualResetEventSlim();
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                done.Set();
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
                if (killedAt is null && e.Data == "tensorlet-save-step: renamed lstm.safetensors")
                {
                    commits++;
                }

                if (killedAt is null && IsCheckpointStep(e.Data) && ++announced == target)
                {
                    child.Kill();
                    killedAt = $"{target}: {e.Data["tensorlet-save-step: ".Length..]}";
                }
            }
        };
        child.BeginErrorReadLine();
        child.BeginOutputReadLine();
        child.WaitForExit();
        done.Wait();
        lock (log)
        {
            return (killedAt, commits, log.ToString());
        }
    }

    // metrics.csv without its timing columns (chars_per_s, seconds): model, epoch and the losses.
    private static List<string> Losses(string run) =>
        [.. File.ReadLines(Path.Combine(run, "metrics.csv")).Skip(1).Select(line => string.Join(',', line.Split(',')[..6]))];

    // The weights and the optimizer state of a run's LSTM checkpoint, as one comparable list.
    private static List<float[]> State(string run)
    {
        var model = Path.Combine(run, "lstm.safetensors");
        var file = SafeTensorsFile.Read(model);
        var optimizer = SafeTensorsFile.Read(Path.Combine(run, file.Metadata["tensorlet.optimizer_file"]));
        return [.. file.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal).Concat(optimizer.Tensors.OrderBy(t => t.Key, StringComparer.Ordinal)).Select(t => t.Value.Data)];
    }
}
