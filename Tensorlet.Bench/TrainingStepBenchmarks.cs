using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Tensorlet.Bench.Infrastructure;
using Tensorlet.Bench.TrainStep;
using Tensorlet.Models.Data;

namespace Tensorlet.Bench;

/// <summary>
/// One training step (load batch, zero gradients, forward + loss, backward, losses to host, Adam) of the notebook's
/// models at batch 100: LSTM 2×256 and 2×512 and the n=3 n-gram MLP (hidden 100, relu), on cpu and on cuda when
/// present. Real data when TENSORLET_DATA is set, else random ids of the same shapes (the step's cost depends only
/// on the shapes). Columns: predicted characters/s and achieved GEMM GFLOP/s (see <see cref="TrainStepFlops"/>).
/// For a run like the trainer's (warm-up, per-batch percentiles, memory, profile) use <c>train-step</c>.
/// </summary>
[Config(typeof(Config))]
public class TrainingStepBenchmarks
{
    private Device device = null!;
    private TrainStepSession session = null!;

    /// <summary>lstm-2x256, lstm-2x512, gru-2x256, rnn-2x256 or ngram.</summary>
    [Params("lstm-2x256", "lstm-2x512", "gru-2x256", "rnn-2x256", "ngram")]
    public string Model { get; set; } = "lstm-2x256";

    /// <summary>The device.</summary>
    [ParamsSource(nameof(Devices))]
    public string DeviceName { get; set; } = "cpu";

    /// <summary>cpu, and cuda where a CUDA GPU is present.</summary>
    public static IEnumerable<string> Devices => Device.IsCudaAvailable ? ["cpu", "cuda"] : ["cpu"];

    /// <summary>Builds model, data, optimizer and buffers, and validates one step before anything is timed.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (kind, cell, hidden, layers) = Shape(Model);
        device = Device.Create(DeviceName);
        bool synthetic = NewsgroupsArchive.FindLocal(new NewsgroupsArchiveOptions { AllowDownload = false }) is null;
        var data = TrainStepData.Create(kind, 3, synthetic, 1234);
        session = new TrainStepSession(device, data, kind, cell, hidden, layers, 3, 0f, 100, 1234);
        double loss = session.Step();
        double expected = Math.Log(data.ClassCount);
        if (!double.IsFinite(loss) || Math.Abs(loss - expected) > 0.5)
        {
            throw new InvalidOperationException($"{Model} on {DeviceName}: the first loss {loss} is not near ln {data.ClassCount} = {expected:F3}; the step is broken.");
        }
    }

    /// <summary>Frees the session and the device.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        session.Dispose();
        device.Dispose();
    }

    /// <summary>One training step; returns the batch's mean loss.</summary>
    [Benchmark]
    public double Step() => session.Step();

    private static (string Kind, string Cell, int Hidden, int Layers) Shape(string model) => model switch
    {
        "lstm-2x256" => ("lstm", "lstm", 256, 2),
        "lstm-2x512" => ("lstm", "lstm", 512, 2),
        "gru-2x256" => ("lstm", "gru", 256, 2),
        "rnn-2x256" => ("lstm", "rnn", 256, 2),
        "ngram" => ("ngram", "lstm", 100, 1),
        _ => throw new ArgumentException($"Unknown model '{model}'."),
    };

    private static double CharsPerStep(string model) => model == "ngram" ? 100 : 100 * 99;

    private static double GflopPerStep(string model) => Shape(model) switch
    {
        ("lstm", var cell, var h, var l) => TrainStepFlops.Recurrent(TrainStepFlops.Gates(cell), 100, 99, h, l, TrainStepData.SyntheticCharacters) / 1e9,
        var s => TrainStepFlops.Ngram(100, s.Hidden, TrainStepData.SyntheticCharacters) / 1e9,
    };

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // A 2×512 step takes seconds on 2 cores: few iterations, one process.
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(7));
            AddColumn(new ThroughputColumn("chars/s", bc => CharsPerStep((string)bc.Parameters["Model"])));
            AddColumn(new ThroughputColumn("GFLOP/s", bc => GflopPerStep((string)bc.Parameters["Model"])));
        }
    }
}
