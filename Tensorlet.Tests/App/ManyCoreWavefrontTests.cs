using NUnit.Framework;
using Tensorlet.Kernels.Cpu;
using Tensorlet.Models.Checkpoints;

namespace Tensorlet.Tests.App;

/// <summary>
/// The wavefront on more cores than two: each layer's steps run on a group of threads that splits the hidden units
/// (<see cref="CpuWavefront"/>), and a thread beyond the two groups takes hand-over parts only. The thread team's size is
/// fixed per process by the processor count, so each case trains in a child process told it has five processors
/// (<c>DOTNET_PROCESSOR_COUNT</c>; the threads then share this machine's cores, which changes the timing, never the
/// floats). The wavefront must write the checkpoint the split schedule writes, byte for byte, as it does on two threads
/// (<c>RecurrentWavefrontTests</c>).
/// </summary>
public sealed class ManyCoreWavefrontTests
{
    private const int Processors = 5;

    [TestCase("lstm", 2)]
    [TestCase("gru", 2)]
    [TestCase("lstm", 3)] // layers 0 and 1 pair forward, 2 and 1 backward; the layer left over runs split
    public void TwoGroupsAndAHelperWriteTheSplitSchedulesCheckpoint(string cell, int layers)
    {
        // 64 hidden units split into two whole slivers for every width's NR (at most 32), so each layer gets two threads.
        const int hidden = 64;
        var folder = AppHarness.TempFolder();
        try
        {
            var text = Path.Combine(folder, "text.txt");
            File.WriteAllText(text, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 200)));
            var split = Train(folder, text, cell, layers, hidden, "split");
            var wavefront = Train(folder, text, cell, layers, hidden, "wavefront");
            // The tensors, not the files: each file's metadata names its run's own optimizer file.
            var expected = SafeTensorsFile.Read(split).Tensors;
            var actual = SafeTensorsFile.Read(wavefront).Tensors;
            Assert.That(actual.Keys, Is.EquivalentTo(expected.Keys));
            Assert.Multiple(() =>
            {
                foreach (var (name, tensor) in expected)
                {
                    Assert.That(Bits(actual[name]), Is.EqualTo(Bits(tensor)), name);
                }
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The tensor's floats as bit patterns, so that the comparison is byte for byte (0 and −0 differ).</summary>
    private static int[] Bits(SafeTensor tensor) => Array.ConvertAll(tensor.Data, BitConverter.SingleToInt32Bits);

    /// <summary>Trains three batches of the model, with dropout, under the schedule; returns its checkpoint's path.</summary>
    private static string Train(string folder, string text, string cell, int layers, int hidden, string schedule)
    {
        var runs = Path.Combine(folder, schedule);
        var result = AppHarness.RunChild(
            new Dictionary<string, string>
            {
                ["DOTNET_PROCESSOR_COUNT"] = $"{Processors}",
                [CpuKernelPlan.RecurrenceVariable] = schedule,
                [CpuKernelPlan.VectorVariable] = "",
            },
            "train", "--text", text, "--model", "lstm", "--cell", cell, "--lstm-hidden", $"{hidden}", "--lstm-layers", $"{layers}",
            "--lstm-dropout", "0.3", "--batch", "8", "--seq-len", "40", "--epochs", "1", "--max-batches", "3", "--sample-length", "10",
            "--device", "cpu", "--threads", $"{Processors}", "--runs-dir", runs);
        Assert.That(result.ExitCode, Is.EqualTo(0), result.ToString());
        Assert.That(result.Stdout, Does.Contain($"{Processors} thread(s)").And.Contain($"recurrence {schedule}"), result.ToString());
        return Path.Combine(AppHarness.OnlyRun(runs), $"{cell}.safetensors");
    }
}
