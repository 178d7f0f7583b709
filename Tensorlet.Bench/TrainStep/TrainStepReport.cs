namespace Tensorlet.Bench.TrainStep;

/// <summary>The JSON line that ends <c>train-step</c>'s output (snake_case names).</summary>
internal sealed record TrainStepReport
{
    /// <summary>lstm, gru, ngram or cnn.</summary>
    public required string Model { get; init; }

    /// <summary>The device name.</summary>
    public required string Device { get; init; }

    /// <summary>The device's hardware line.</summary>
    public required string DeviceDescription { get; init; }

    /// <summary>
    /// On cpu, the kernels' plan: the register width and how it was chosen (measured, TENSORLET_CPU_VECTOR or the
    /// hardware), the GEMM tile and blocking, and the caches they were derived from; null on other devices.
    /// </summary>
    public string? CpuPlan { get; init; }

    /// <summary>
    /// The GEMM the step ran: Tiled on an ILGPU device, or on cpu <c>cpu-packed-</c> and the packed microkernel kind
    /// (e.g. cpu-packed-vector512).
    /// </summary>
    public required string Gemm { get; init; }

    /// <summary>
    /// How the recurrent model's time steps ran: StepByStep on an ILGPU device; on cpu, cpu-wavefront (stacked layers at
    /// once, on two threads or more) or cpu-fused; null for the n-gram model, which has none.
    /// </summary>
    public required string? Recurrence { get; init; }

    /// <summary>H; null for the CNN, whose widths are fixed.</summary>
    public int? Hidden { get; init; }

    /// <summary>LSTM layers (1 for the n-gram model, null for the CNN).</summary>
    public int? Layers { get; init; }

    /// <summary>n of the n-gram model.</summary>
    public int? N { get; init; }

    /// <summary>Examples per batch.</summary>
    public int Batch { get; init; }

    /// <summary>CPU kernel threads (0 on an accelerator).</summary>
    public int Threads { get; init; }

    /// <summary>20newsgroups or synthetic.</summary>
    public required string Data { get; init; }

    /// <summary>Warm-up batches.</summary>
    public int Warmup { get; init; }

    /// <summary>Timed batches.</summary>
    public int Batches { get; init; }

    /// <summary>Median time of a batch, ms.</summary>
    public double MsPerBatchMedian { get; init; }

    /// <summary>10th percentile, ms.</summary>
    public double MsPerBatchP10 { get; init; }

    /// <summary>90th percentile, ms.</summary>
    public double MsPerBatchP90 { get; init; }

    /// <summary>Mean, ms.</summary>
    public double MsPerBatchMean { get; init; }

    /// <summary>Process CPU time per timed batch, all threads, ms (robust to other load; at 1 thread ≈ idle wall time).</summary>
    public double CpuMsPerBatch { get; init; }

    /// <summary>Predicted characters per batch (B·99 or B); null for the CNN.</summary>
    public int? CharsPerBatch { get; init; }

    /// <summary>Predicted characters per second at the median time; null for the CNN.</summary>
    public double? CharsPerS { get; init; }

    /// <summary>The CNN's images per batch (B); null for the char models.</summary>
    public int? ImagesPerBatch { get; init; }

    /// <summary>The CNN's images per second at the median time; null for the char models.</summary>
    public double? ImagesPerS { get; init; }

    /// <summary>GEMM GFLOP of one step (see TrainStepFlops).</summary>
    public double GemmGflopPerBatch { get; init; }

    /// <summary>Achieved GEMM GFLOP/s at the median time.</summary>
    public double Gflops { get; init; }

    /// <summary>The first batch's loss (validated near ln V, V the classes: characters, or the CNN's 10).</summary>
    public double FirstLoss { get; init; }

    /// <summary>The last timed batch's loss.</summary>
    public double LastLoss { get; init; }

    /// <summary>Peak resident set (VmHWM) during model setup and training, MiB; reset after data loading.</summary>
    public double PeakWorkingSetMb { get; init; }

    /// <summary>Peak resident set up to the end of data loading, MiB.</summary>
    public double PeakWorkingSetWithLoadingMb { get; init; }

    /// <summary>Device memory held at the end, MiB.</summary>
    public double DeviceMb { get; init; }

    /// <summary>Device buffer allocations during the timed batches (steady state: 0).</summary>
    public long DeviceAllocationsTimed { get; init; }

    /// <summary>Managed bytes allocated per timed batch, all threads.</summary>
    public double ManagedBytesPerBatch { get; init; }

    /// <summary>Gen-0 collections during the timed batches.</summary>
    public int Gen0Collections { get; init; }

    /// <summary>Gen-2 collections during the timed batches.</summary>
    public int Gen2Collections { get; init; }

    /// <summary>1-minute load average before the run.</summary>
    public double LoadAvgStart { get; init; }

    /// <summary>1-minute load average after the timed batches.</summary>
    public double LoadAvgEnd { get; init; }

    /// <summary>With --profile: ms per batch by category.</summary>
    public IReadOnlyDictionary<string, double>? Profile { get; init; }

    /// <summary>With --profile: process CPU ms per batch by category.</summary>
    public IReadOnlyDictionary<string, double>? ProfileCpu { get; init; }
}
