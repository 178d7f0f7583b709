using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using NUnit.Framework;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary>
/// SIGTERM (what <c>timeout</c>, <c>docker stop</c> and <c>kill</c> send) stops <c>train</c> as the first Ctrl+C does:
/// after the current batch, with the checkpoint saved, exit 130, and the run resumes. CharPredict runs as a child
/// process, on a text of its own, so the test needs no corpus.
/// </summary>
[NonParallelizable]
public sealed class SigTermTests
{
    private const int SigTerm = 15;

    private string? folder;

    [OneTimeSetUp]
    public void CreateFolder()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            Assert.Ignore("The test sends SIGTERM; this is not a POSIX system.");
        }

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

    [Test]
    [CancelAfter(120_000)]
    public void SigTermStopsTrainingAfterTheBatchAndSavesAndTheRunResumes()
    {
        string text = Path.Combine(folder!, "train.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 40)));
        string runs = Path.Combine(folder!, "runs");

        // Far more epochs than the test waits for: only the signal ends the run.
        using var child = Process.Start(AppHarness.ChildStartInfo(
        [
            "train", "--text", text, "--model", "lstm", "--lstm-hidden", "4", "--lstm-layers", "1", "--epochs", "1000000", "--max-batches", "2",
            "--batch", "4", "--seq-len", "8", "--sample-length", "0", "--device", "cpu", "--threads", "1", "--runs-dir", runs,
        ]))!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        bool signalled = false;
        var outputDone = new ManualResetEventSlim();
        var errorDone = new ManualResetEventSlim();
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                outputDone.Set();
                return;
            }

            lock (stdout)
            {
                stdout.AppendLine(e.Data);

                // Once an epoch has ended, training is under way: a run that is stopped now has a checkpoint to save.
                if (!signalled && e.Data.StartsWith("lstm epoch 2/", StringComparison.Ordinal))
                {
                    signalled = true;
                    Assert.That(Signal(child.Id, SigTerm), Is.Zero, "kill(SIGTERM)");
                }
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                errorDone.Set();
                return;
            }

            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        if (!child.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail($"the child did not stop within 90 s of starting\n{stdout}\n{stderr}");
        }

        outputDone.Wait();
        errorDone.Wait();
        string log = $"exit {child.ExitCode}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}";
        Assert.That(signalled, Is.True, log);
        Assert.That(child.ExitCode, Is.EqualTo(CharPredictApp.Stopped), log);
        Assert.That(stderr.ToString(), Does.Contain("Stopping after the current batch"), log);
        Assert.That(stdout.ToString(), Does.Contain("Stopped. The checkpoint is saved; continue with: train --resume"), log);

        var run = AppHarness.OnlyRun(runs);
        Assert.That(File.Exists(Path.Combine(run, "lstm.safetensors")), Is.True, "the checkpoint is saved");

        // One more batch from the saved checkpoint, then the same clean stop.
        var resumed = AppHarness.Run("train", "--resume", run, "--stop-after-batches", "1");
        Assert.That(resumed.ExitCode, Is.EqualTo(CharPredictApp.Stopped), resumed.ToString());
        Assert.That(resumed.Stdout, Does.Contain("resuming at epoch"), "the run continued from the saved checkpoint");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Signal(int pid, int signal);
}
