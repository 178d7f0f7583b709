using System.Diagnostics;
using System.Globalization;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// Where a training step's time goes: GEMM (by shape), LSTM cell, softmax + cross-entropy, Adam, the other
/// kernels, and the rest (host work, dispatch and validation, batch loading). Measured on separate batches
/// after the timed ones, with a <see cref="ProfilingBackend"/> in front of the device's kernels.
/// </summary>
internal sealed class TrainStepProfile
{
    private readonly ProfilingBackend.KernelTime[] categories;
    private readonly string[] names;
    private readonly List<(ProfilingBackend.GemmShape Shape, ProfilingBackend.KernelTime Time)> gemms;
    private readonly List<(string Kernel, ProfilingBackend.KernelTime Time)> others;

    private TrainStepProfile(int batches, double wallSeconds, double cpuSeconds, double unprofiledMedian, ProfilingBackend profiler)
    {
        Batches = batches;
        WallSeconds = wallSeconds;
        CpuSeconds = cpuSeconds;
        UnprofiledMedianSeconds = unprofiledMedian;
        gemms = [.. profiler.Gemms.Select(g => (g.Key, g.Value)).OrderByDescending(g => g.Value.Ticks)];
        others = [.. profiler.Kernels.Select(k => (k.Key, k.Value)).OrderByDescending(k => k.Value.Ticks)];
        var gemm = Sum(gemms.Select(g => g.Time));
        var cell = Sum(others.Where(k => IsLstmKernel(k.Kernel)).Select(k => k.Time));
        var softmax = Sum(others.Where(k => k.Kernel == "SoftmaxCrossEntropy").Select(k => k.Time));
        var adam = Sum(others.Where(k => k.Kernel == "AdamStep").Select(k => k.Time));
        var rest = Sum(others.Where(k => !IsLstmKernel(k.Kernel) && k.Kernel is not ("SoftmaxCrossEntropy" or "AdamStep")).Select(k => k.Time));
        names = ["gemm", "lstm_recurrence", "softmax_ce", "adam", "other_kernels"];
        categories = [gemm, cell, softmax, adam, rest];
    }

    /// <summary>Profiled batches.</summary>
    public int Batches { get; }

    /// <summary>Wall time of the profiled batches.</summary>
    public double WallSeconds { get; }

    /// <summary>Process CPU time of the profiled batches.</summary>
    public double CpuSeconds { get; }

    /// <summary>The median of the unprofiled timed batches, to show what profiling costs.</summary>
    public double UnprofiledMedianSeconds { get; }

    /// <summary>Runs <paramref name="batches"/> profiled steps of <paramref name="session"/>.</summary>
    public static TrainStepProfile Measure(TrainStepSession session, int batches, double unprofiledMedian)
    {
        var profiler = ProfilingBackend.Install(session.Device, out var interception);
        try
        {
            session.Step(); // one unrecorded step through the wrapper, so nothing below is a first call
            profiler.Recording = true;
            long t0 = Stopwatch.GetTimestamp();
            double cpu0 = profiler.CpuSeconds();
            for (int i = 0; i < batches; i++)
            {
                session.Step();
            }

            double wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            double cpu = profiler.CpuSeconds() - cpu0;
            profiler.Recording = false;
            return new TrainStepProfile(batches, wall, cpu, unprofiledMedian, profiler);
        }
        finally
        {
            interception.Dispose();
        }
    }

    /// <summary>ms per batch by category, with <c>other_overhead</c> (wall minus kernels) and <c>total</c>.</summary>
    public Dictionary<string, double> MillisecondsPerBatch()
    {
        var result = new Dictionary<string, double>();
        double kernels = 0;
        for (int i = 0; i < names.Length; i++)
        {
            result[names[i]] = Math.Round(PerBatchMs(categories[i]), 3);
            kernels += categories[i].Seconds;
        }

        result["other_overhead"] = Math.Round((WallSeconds - kernels) * 1000 / Batches, 3);
        result["total"] = Math.Round(WallSeconds * 1000 / Batches, 3);
        return result;
    }

    /// <summary>Process CPU ms per batch by category (all threads, spinning included), with <c>other_overhead</c> and <c>total</c>.</summary>
    public Dictionary<string, double> CpuMillisecondsPerBatch()
    {
        var result = new Dictionary<string, double>();
        double kernels = 0;
        for (int i = 0; i < names.Length; i++)
        {
            result[names[i]] = Math.Round(categories[i].CpuSeconds * 1000 / Batches, 3);
            kernels += categories[i].CpuSeconds;
        }

        result["other_overhead"] = Math.Round((CpuSeconds - kernels) * 1000 / Batches, 3);
        result["total"] = Math.Round(CpuSeconds * 1000 / Batches, 3);
        return result;
    }

    /// <summary>Writes the breakdown as a table.</summary>
    public void Print(TextWriter writer)
    {
        double wallMs = WallSeconds * 1000 / Batches;
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"profile over {Batches} batches (a device synchronize after every kernel): {wallMs:F2} ms/batch profiled, {UnprofiledMedianSeconds * 1000:F2} ms/batch unprofiled median; CPU {CpuSeconds * 1000 / Batches:F2} ms/batch (all threads)"));
        writer.WriteLine($"  {"category",-58} {"ms/batch",10} {"share",7} {"CPU ms",8} {"calls/batch",12} {"GFLOP/s",8} {"KB/batch",9}");
        var ms = MillisecondsPerBatch();
        var cpuMs = CpuMillisecondsPerBatch();
        for (int i = 0; i < names.Length; i++)
        {
            var c = categories[i];
            Row(writer, names[i], ms[names[i]], cpuMs[names[i]], wallMs, c.Calls / (double)Batches, c.Flops > 0 ? c.Flops / c.Seconds / 1e9 : null, c.AllocatedBytes / 1024.0 / Batches);
            if (names[i] == "gemm")
            {
                foreach (var (shape, time) in gemms)
                {
                    Row(writer, "  " + Role(shape) + " " + shape, PerBatchMs(time), time.CpuSeconds * 1000 / Batches, wallMs, time.Calls / (double)Batches, time.Flops / time.Seconds / 1e9, time.AllocatedBytes / 1024.0 / Batches);
                }
            }

            if (names[i] == "lstm_recurrence")
            {
                foreach (var (kernel, time) in others.Where(k => IsLstmKernel(k.Kernel)))
                {
                    Row(writer, "  " + kernel, PerBatchMs(time), time.CpuSeconds * 1000 / Batches, wallMs, time.Calls / (double)Batches, null, time.AllocatedBytes / 1024.0 / Batches);
                }
            }

            if (names[i] == "other_kernels")
            {
                foreach (var (kernel, time) in others.Where(k => !IsLstmKernel(k.Kernel) && k.Kernel is not ("SoftmaxCrossEntropy" or "AdamStep")))
                {
                    Row(writer, "  " + kernel, PerBatchMs(time), time.CpuSeconds * 1000 / Batches, wallMs, time.Calls / (double)Batches, null, time.AllocatedBytes / 1024.0 / Batches);
                }
            }
        }

        Row(writer, "other_overhead (host, dispatch, batch load)", ms["other_overhead"], cpuMs["other_overhead"], wallMs, 0, null, null);
    }

    private double PerBatchMs(ProfilingBackend.KernelTime time) => time.Seconds * 1000 / Batches;

    /// <summary>
    /// The per-step part of the LSTM, GRU or RNN: the cell kernels where the device runs the steps one by one (the recurrent
    /// GEMMs are then in the gemm rows), or the fused recurrence, recurrent GEMMs and cells together (cpu), or the
    /// wavefront over two layers, which also holds the upper layer's input projection and input gradient (cpu).
    /// </summary>
    private static bool IsLstmKernel(string kernel) =>
        kernel.StartsWith("LstmCell", StringComparison.Ordinal) || kernel.StartsWith("LstmRecurrence", StringComparison.Ordinal)
        || kernel.StartsWith("GruCell", StringComparison.Ordinal) || kernel.StartsWith("GruRecurrence", StringComparison.Ordinal)
        || kernel.StartsWith("RnnRecurrence", StringComparison.Ordinal) || kernel.Contains("Wavefront", StringComparison.Ordinal);

    // What a GEMM is in the LSTM's recipe, told from its layout and whether it adds to C (the per-step recurrent terms
    // do; see Lstm.cs and Linear.cs).
    private static string Role(ProfilingBackend.GemmShape s) => (s.TransposeA, s.TransposeB, s.Accumulate) switch
    {
        (false, true, true) => "recurrent fwd h·W_hhᵀ",
        (false, false, true) => "recurrent bwd d(pre)·W_hh",
        (true, _, _) => "weight gradient",
        (false, true, false) => "projection fwd x·Wᵀ",
        _ => "input gradient dy·W",
    };

    private static void Row(TextWriter writer, string name, double ms, double cpuMs, double wallMs, double calls, double? gflops, double? kilobytes)
        => writer.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"  {name,-58} {ms,10:F2} {ms / wallMs,7:P1} {cpuMs,8:F2} {calls,12:F0} {Optional(gflops),8} {Optional(kilobytes),9}"));

    private static string Optional(double? value) => value is double v ? v.ToString("F1", CultureInfo.InvariantCulture) : string.Empty;

    private static ProfilingBackend.KernelTime Sum(IEnumerable<ProfilingBackend.KernelTime> times)
    {
        var total = new ProfilingBackend.KernelTime();
        foreach (var t in times)
        {
            total.Merge(t);
        }

        return total;
    }
}
