using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tensorlet.Backends.Cpu;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// <c>train-step</c>: times the training step of the notebook's models (and of a small CNN on random images) outside
/// BenchmarkDotNet, the way a training run sees it (one process, real data, W warm-up batches, then N timed batches one
/// by one).
/// Prints a readable summary, an optional kernel profile, and, as its last line, one JSON object.
/// </summary>
internal static class TrainStepCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Runs the command on parsed options; returns the exit code.</summary>
    public static int Run(TrainStepOptions options)
    {
        double loadStart = ProcessMemory.LoadAverage();
        using var device = CreateDevice(options);
        string gemm = GemmName(device);
        string? recurrence = RecurrenceName(device, options);

        int threads = (device.Backend as CpuBackend)?.Threads ?? 0;
        Console.WriteLine($"device: {device.Name} ({device.Description}){(threads > 0 ? $", {threads} threads" : string.Empty)}, GEMM {gemm}{(recurrence is null ? "" : $", recurrence {recurrence}")}");

        var clock = Stopwatch.StartNew();
        var data = TrainStepData.Create(options.Model, options.N, options.Synthetic, options.Seed);
        Console.WriteLine($"data: {data.Description} (loaded in {clock.Elapsed.TotalSeconds:F1} s)");
        if (options.Batch > data.Count)
        {
            // A batch is drawn from one shuffled epoch, so it can hold every example at most: a bad option, refused
            // before the model is built.
            Console.Error.WriteLine($"train-step: --batch {options.Batch} is more than the {data.Count} {data.ExampleName} the data holds; give at most {data.Count}.");
            return 2;
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        double peakWithLoading = ProcessMemory.PeakMegabytes();
        bool peakReset = ProcessMemory.ResetPeak();

        using var session = new TrainStepSession(device, data, options.Model, options.Cell, options.Hidden, options.Layers, options.N, options.Dropout, options.Batch, options.Seed);
        string modelName = options.Model == "lstm" ? options.Cell : options.Model;
        string shape = options.Model switch
        {
            "lstm" => $"{options.Layers}×{options.Hidden}",
            "ngram" => $"n={options.N}, {data.NgramCount}→{options.Hidden}→{data.ClassCount}",
            _ => $"3×3 conv {TrainStepCnn.Channels}→{string.Join('→', TrainStepCnn.Widths.ToArray())} (batch norm, ReLU, pooling), Linear {TrainStepCnn.Widths[^1]}→{data.ClassCount}",
        };
        Console.WriteLine($"model: {modelName} {shape}, {session.Model.Parameters.Length:N0} parameters, batch {options.Batch}, Adam lr {TrainStepSession.LearningRate}");

        // Validate before timing: a fresh model predicts about uniformly, so the first loss is near ln V.
        clock.Restart();
        double firstLoss = session.Step();
        double firstSeconds = clock.Elapsed.TotalSeconds;
        double expected = Math.Log(data.ClassCount);
        Console.WriteLine($"first batch: loss {firstLoss:F4} (ln {data.ClassCount} = {expected:F4}), {firstSeconds * 1000:F1} ms");
        if (!double.IsFinite(firstLoss) || Math.Abs(firstLoss - expected) > 0.5)
        {
            Console.Error.WriteLine($"train-step: the first loss {firstLoss} is not finite or not within 0.5 of ln {data.ClassCount}; refusing to time a broken step.");
            return 1;
        }

        for (int i = 1; i < options.Warmup; i++)
        {
            session.Step();
        }

        // The timed batches. Everything the loop itself needs is allocated before the counters are read, so they count
        // only what training allocates.
        var seconds = new double[options.Batches];
        double cpuBefore = ProcessCpuTime.Seconds();
        long allocationsBefore = device.AllocationCount;
        long gcBytesBefore = GC.GetTotalAllocatedBytes(precise: true);
        int gen0Before = GC.CollectionCount(0), gen2Before = GC.CollectionCount(2);
        double lastLoss = double.NaN;
        for (int i = 0; i < options.Batches; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            lastLoss = session.Step();
            seconds[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        double cpuPerBatch = (ProcessCpuTime.Seconds() - cpuBefore) / options.Batches;

        long deviceAllocations = device.AllocationCount - allocationsBefore;
        double gcBytesPerBatch = (double)(GC.GetTotalAllocatedBytes(precise: true) - gcBytesBefore) / options.Batches;
        int gen0 = GC.CollectionCount(0) - gen0Before, gen2 = GC.CollectionCount(2) - gen2Before;
        double peak = ProcessMemory.PeakMegabytes();

        var sorted = seconds.Order().ToArray();
        double median = Percentile(sorted, 0.5);
        // Rows of the loss per batch: predicted characters, or images for the CNN.
        int rows = session.RowsPerBatch;
        bool images = options.Model == "cnn";
        double flops = options.Model switch
        {
            "lstm" => TrainStepFlops.Recurrent(TrainStepFlops.Gates(options.Cell), options.Batch, TrainStepData.SequenceLength - 1, options.Hidden, options.Layers, data.ClassCount),
            "ngram" => TrainStepFlops.Ngram(options.Batch, options.Hidden, data.ClassCount),
            _ => TrainStepFlops.Cnn(options.Batch, TrainStepCnn.Channels, TrainStepCnn.ImageSize, TrainStepCnn.Widths, TrainStepCnn.Classes),
        };

        Console.WriteLine($"timed {options.Batches} batches after {Math.Max(options.Warmup, 1)} warm-up: median {median * 1000:F2} ms " +
            $"(p10 {Percentile(sorted, 0.1) * 1000:F2}, p90 {Percentile(sorted, 0.9) * 1000:F2}), {rows / median:N0} {(images ? "images" : "chars")}/s, " +
            $"{flops / median / 1e9:F1} GFLOP/s of {flops / 1e9:F3} GFLOP; last loss {lastLoss:F4}");
        Console.WriteLine($"cpu time: {cpuPerBatch * 1000:F2} ms per batch, all threads (load average {ProcessMemory.LoadAverage():F2} on {Environment.ProcessorCount} cores)");
        Console.WriteLine($"memory: peak {peak:F0} MiB during training ({(peakReset ? "peak reset after loading" : "whole process")}), {peakWithLoading:F0} MiB with data loading; device {device.AllocatedBytes / 1048576.0:F1} MiB in {device.AllocationCount} buffers; " +
            $"{deviceAllocations} device allocations and {gcBytesPerBatch:F0} managed bytes per timed batch, {gen0} gen0 / {gen2} gen2 GCs");

        TrainStepProfile? profile = null;
        if (options.Profile)
        {
            profile = TrainStepProfile.Measure(session, options.Batches, median);
            profile.Print(Console.Out);
        }

        var report = new TrainStepReport
        {
            Model = modelName,
            Device = device.Name,
            DeviceDescription = device.Description,
            CpuPlan = (device.Backend as CpuBackend)?.Plan.Describe() ?? (device.Kind == DeviceKind.Cpu ? CpuKernelPlan.Machine.Describe() : null),
            Gemm = gemm,
            Recurrence = recurrence,
            Hidden = images ? null : options.Hidden,
            Layers = options.Model switch { "lstm" => options.Layers, "ngram" => 1, _ => null },
            N = options.Model == "ngram" ? options.N : null,
            Batch = options.Batch,
            Threads = threads,
            Data = options.Synthetic || images ? "synthetic" : "20newsgroups",
            Warmup = Math.Max(options.Warmup, 1), // the validated first batch is always one, untimed
            Batches = options.Batches,
            MsPerBatchMedian = Round(median * 1000),
            MsPerBatchP10 = Round(Percentile(sorted, 0.1) * 1000),
            MsPerBatchP90 = Round(Percentile(sorted, 0.9) * 1000),
            MsPerBatchMean = Round(seconds.Average() * 1000),
            CpuMsPerBatch = Round(cpuPerBatch * 1000),
            CharsPerBatch = images ? null : rows,
            CharsPerS = images ? null : Math.Round(rows / median),
            ImagesPerBatch = images ? rows : null,
            ImagesPerS = images ? Math.Round(rows / median) : null,
            GemmGflopPerBatch = Round(flops / 1e9),
            Gflops = Round(flops / median / 1e9),
            FirstLoss = Round(firstLoss),
            LastLoss = Round(lastLoss),
            PeakWorkingSetMb = Math.Round(peak),
            PeakWorkingSetWithLoadingMb = Math.Round(peakWithLoading),
            DeviceMb = Round(device.AllocatedBytes / 1048576.0),
            DeviceAllocationsTimed = deviceAllocations,
            ManagedBytesPerBatch = Math.Round(gcBytesPerBatch),
            Gen0Collections = gen0,
            Gen2Collections = gen2,
            LoadAvgStart = loadStart,
            LoadAvgEnd = ProcessMemory.LoadAverage(),
            Profile = profile?.MillisecondsPerBatch(),
            ProfileCpu = profile?.CpuMillisecondsPerBatch(),
        };
        Console.WriteLine(JsonSerializer.Serialize(report, Json));
        return 0;
    }

    /// <summary>The GEMM the device runs: the tiled kernel on an ILGPU device, the packed SIMD kernel kind on cpu.</summary>
    private static string GemmName(Device device)
        => device.Backend is IlgpuBackend
            ? "Tiled"
            : $"cpu-packed-{GemmGeometry.Machine.Kind.ToString().ToLowerInvariant()}"; // what varies by machine is the microkernel it packs for

    /// <summary>How the LSTM's time steps run: step by step on an ILGPU device; on cpu, fused, as a wavefront over stacked layers by default.</summary>
    private static string? RecurrenceName(Device device, TrainStepOptions options) => device.Backend switch
    {
        _ when options.Model != "lstm" => null, // the n-gram MLP and the CNN have none
        IlgpuBackend => "StepByStep",
        CpuBackend cpu when cpu.Plan.Recurrence == CpuRecurrenceSchedule.Wavefront && cpu.Threads >= 2 && options.Layers >= 2 => "cpu-wavefront",
        _ => "cpu-fused",
    };

    /// <summary>The device, with <c>--recurrence</c>'s schedule in its plan when given (cpu only).</summary>
    /// <exception cref="DeviceNotAvailableException">The device cannot be made, or <c>--threads</c> or <c>--recurrence</c> is given for another.</exception>
    private static Device CreateDevice(TrainStepOptions options)
    {
        // The device as named first: it checks the name and the TENSORLET_CPU_* settings, each a one-line error. Which
        // device "auto" is, and so whether the cpu-only flags apply, is known only then.
        var device = Device.Create(options.Device, options.Threads ?? 0);
        if (options.Threads is not null && device.Backend is not CpuBackend)
        {
            string name = device.Name;
            device.Dispose();
            throw new DeviceNotAvailableException($"--threads applies to the cpu device only, not {name}.");
        }

        if (options.Recurrence is null)
        {
            return device;
        }

        using (device)
        {
            if (device.Backend is not CpuBackend cpu)
            {
                throw new DeviceNotAvailableException($"--recurrence applies to the cpu device only, not {device.Name}.");
            }

            var schedule = options.Recurrence == "wavefront" ? CpuRecurrenceSchedule.Wavefront : CpuRecurrenceSchedule.Split;
            return Device.CreateCpu(cpu.Threads, cpu.Plan with { Recurrence = schedule });
        }
    }

    /// <summary>The p-quantile of sorted values, linearly interpolated.</summary>
    internal static double Percentile(double[] sorted, double p)
    {
        double index = p * (sorted.Length - 1);
        int lo = (int)Math.Floor(index);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (index - lo));
    }

    private static double Round(double value) => Math.Round(value, 4);
}
