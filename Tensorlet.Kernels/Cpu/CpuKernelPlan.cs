using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tensorlet.Kernels.Cpu;

/// <summary>
/// The choices the CPU kernels run with: a register width and the GEMM blocking derived from it and the caches.
/// Kernels take a plan (or its <see cref="Gemm"/>) as an argument; nothing is switched globally. <see cref="Machine"/>
/// is this process's plan, made once at first use: the width from <c>TENSORLET_CPU_VECTOR</c>
/// (<c>512</c>, <c>256</c>, <c>128</c> or <c>scalar</c>) when set, else the widest width the hardware accelerates, except
/// that with AVX-512 the Vector512 and Vector256 microkernels are timed against each other once (about 10 ms),
/// because a core that splits 512-bit operations into two halves (AMD Zen 4) may run either faster. Vector256 is
/// chosen only when it measures clearly (5%) faster: the wider kernel needs fewer loads per FMA, and the rest of a
/// training step gains from the wider registers (on Zen 4 the two microkernels tie, and the 2×256 LSTM step ran
/// 1.06–1.17× faster with Vector512).
/// </summary>
/// <param name="Width">The register width.</param>
/// <param name="Gemm">The GEMM microkernel and blocking.</param>
/// <param name="Caches">The caches the blocking was derived from.</param>
/// <param name="Reason">How the width was chosen (<c>TENSORLET_CPU_VECTOR</c>, <c>hardware</c>, <c>measured …</c>, or <c>explicit</c>).</param>
internal sealed record CpuKernelPlan(CpuVectorWidth Width, GemmGeometry Gemm, CpuCaches Caches, string Reason)
{
    /// <summary>
    /// How stacked LSTM, GRU and RNN layers' recurrences run on two threads or more: <see cref="CpuRecurrenceSchedule.Wavefront"/>
    /// unless <see cref="RecurrenceVariable"/> or a plan says otherwise (both schedules give the same floats). The wavefront
    /// is the default because, alternated with the split schedule, it was as fast or faster in every pair and spent less CPU
    /// time per batch: the split schedule's barrier after every step makes it wait whenever either thread is held up
    /// (docs/benchmarks.md). Its cost is one more d(pre) buffer [T·B, 4H] during backward.
    /// </summary>
    public CpuRecurrenceSchedule Recurrence { get; init; } = DefaultRecurrence();

    /// <summary>
    /// Whether the device's large buffers go in huge pages: <see cref="CpuHugePages.Machine"/> unless a plan says otherwise.
    /// </summary>
    public CpuHugePages HugePages { get; init; } = CpuHugePages.Machine;

    /// <summary>The environment variable that fixes the width for the process.</summary>
    public const string VectorVariable = "TENSORLET_CPU_VECTOR";

    /// <summary>The environment variable that chooses the stacked layers' schedule: <c>wavefront</c> (default) or <c>split</c>.</summary>
    public const string RecurrenceVariable = "TENSORLET_CPU_RECURRENCE";

    private static readonly Lazy<CpuKernelPlan> MachinePlan = new(Choose);

    /// <summary>This process's plan (chosen once, at first use).</summary>
    /// <exception cref="ArgumentException"><see cref="VectorVariable"/>, <see cref="RecurrenceVariable"/> or
    /// <see cref="CpuHugePages.Variable"/> names no width, schedule or setting, or a width this CPU does not accelerate
    /// (every access throws it again).</exception>
    public static CpuKernelPlan Machine => MachinePlan.Value;

    /// <summary>A plan for a given width on this machine's caches (tests and benchmarks construct the variants they compare).</summary>
    /// <exception cref="PlatformNotSupportedException">This machine cannot run <paramref name="width"/>.</exception>
    public static CpuKernelPlan For(CpuVectorWidth width) => For(width, CpuCaches.Machine, "explicit");

    /// <summary>A plan for a given width and caches.</summary>
    public static CpuKernelPlan For(CpuVectorWidth width, CpuCaches caches, string reason)
    {
        if (!IsSupported(width))
        {
            throw new PlatformNotSupportedException($"This CPU does not accelerate {width}; it supports {string.Join(", ", Supported())}.");
        }

        return new CpuKernelPlan(width, GemmGeometry.For(width, caches), caches, reason);
    }

    /// <summary>Whether this machine runs <paramref name="width"/> in hardware (Vector256 and Vector512 also need FMA).</summary>
    public static bool IsSupported(CpuVectorWidth width) => width switch
    {
        CpuVectorWidth.Vector512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        CpuVectorWidth.Vector256 => Vector256.IsHardwareAccelerated && Fma.IsSupported,
        CpuVectorWidth.Vector128 => Vector128.IsHardwareAccelerated,
        CpuVectorWidth.Scalar => true,
        _ => false,
    };

    /// <summary>The widths this machine runs, widest first.</summary>
    public static IEnumerable<CpuVectorWidth> Supported() =>
        new[] { CpuVectorWidth.Vector512, CpuVectorWidth.Vector256, CpuVectorWidth.Vector128, CpuVectorWidth.Scalar }.Where(IsSupported);

    /// <summary>Parses <c>512</c>, <c>256</c>, <c>128</c> or <c>scalar</c> (as <see cref="VectorVariable"/> takes them); null if it is none of these.</summary>
    public static CpuVectorWidth? ParseWidth(string text) => text.Trim().ToLowerInvariant() switch
    {
        "512" or "vector512" => CpuVectorWidth.Vector512,
        "256" or "vector256" => CpuVectorWidth.Vector256,
        "128" or "vector128" => CpuVectorWidth.Vector128,
        "scalar" or "1" => CpuVectorWidth.Scalar,
        _ => null,
    };

    /// <summary>One line for a device description: <c>Vector512 (measured 1.00x Vector256), GEMM 8x32 KC 256 MC 256, recurrence wavefront, huge pages 2 MiB (THP madvise), L1d 32 KiB, …</c>.</summary>
    public string Describe() =>
        $"{Width} ({Reason}), GEMM {Gemm.Mr}x{Gemm.Nr} KC {Gemm.KcMax} MC {Gemm.Mc}, recurrence {Recurrence.ToString().ToLowerInvariant()}, {HugePages.Describe()}, {Caches.Describe()}";

    private static CpuRecurrenceSchedule DefaultRecurrence()
    {
        string? configured = Environment.GetEnvironmentVariable(RecurrenceVariable);
        return configured?.Trim().ToLowerInvariant() switch
        {
            null or "" or "wavefront" => CpuRecurrenceSchedule.Wavefront,
            "split" => CpuRecurrenceSchedule.Split,
            _ => throw new ArgumentException($"{RecurrenceVariable}={configured} is not one of split, wavefront."),
        };
    }

    private static CpuKernelPlan Choose()
    {
        var caches = CpuCaches.Machine;
        string? configured = Environment.GetEnvironmentVariable(VectorVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var width = ParseWidth(configured)
                ?? throw new ArgumentException($"{VectorVariable}={configured} is not one of 512, 256, 128, scalar.");
            if (!IsSupported(width))
            {
                throw new ArgumentException($"{VectorVariable}={configured} asks for {width}, which this CPU does not accelerate; it runs {string.Join(", ", Supported())}.");
            }

            return For(width, caches, VectorVariable);
        }

        var widest = Supported().First();
        if (widest == CpuVectorWidth.Vector512 && IsSupported(CpuVectorWidth.Vector256))
        {
            // Zen 4 executes a 512-bit FMA as two 256-bit halves, so analysis cannot tell which microkernel wins.
            double ratio = GemmMicrokernelRace.Vector512OverVector256();
            var width = ratio >= 0.95 ? CpuVectorWidth.Vector512 : CpuVectorWidth.Vector256;
            // Invariant: the plan is part of the device line and of train-step's JSON, whatever the process's culture.
            return For(width, caches, string.Create(CultureInfo.InvariantCulture, $"measured {ratio:F2}x Vector256"));
        }

        return For(widest, caches, "hardware");
    }
}

/// <summary>
/// Times the Vector512 and Vector256 microkernels against each other on an L1-resident tile: 24 interleaved trials of
/// about 0.2 ms each, the best trial of each kernel compared. Short trials and the best of many keep the verdict
/// right on a busy machine, where any one trial may lose the core to another process (that only ever slows a trial).
/// </summary>
internal static unsafe class GemmMicrokernelRace
{
    /// <summary>Vector512's FLOP rate over Vector256's: above 1 means Vector512 is faster.</summary>
    public static double Vector512OverVector256()
    {
        double best512 = 0, best256 = 0;
        for (int round = 0; round < 24; round++)
        {
            best512 = Math.Max(best512, Rate(GemmMicrokernel512.Mr, GemmMicrokernel512.Nr, true));
            best256 = Math.Max(best256, Rate(GemmMicrokernel256.Mr, GemmMicrokernel256.Nr, false));
        }

        return best256 > 0 ? best512 / best256 : 1.0;
    }

    /// <summary>FLOPs per second of one microkernel over kc = 128 on zero-filled, aligned panels.</summary>
    private static double Rate(int mr, int nr, bool wide)
    {
        const int kc = 128, panels = 4;
        float* a = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(kc * mr * panels * sizeof(float)), 64);
        float* b = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(kc * nr * sizeof(float)), 64);
        float* c = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(mr * nr * panels * sizeof(float)), 64);
        float* spill = stackalloc float[mr * nr];
        try
        {
            new Span<float>(a, kc * mr * panels).Fill(0.5f);
            new Span<float>(b, kc * nr).Fill(0.25f);
            long calls = 0;
            long start = Stopwatch.GetTimestamp(), budget = Stopwatch.Frequency / 5000;
            do
            {
                for (int i = 0; i < 16; i++)
                {
                    for (int p = 0; p < panels; p++)
                    {
                        if (wide)
                        {
                            GemmMicrokernel512.Run(kc, a + (p * kc * mr), b, c + (p * mr * nr), nr, mr, nr, 1f, 1f, spill);
                        }
                        else
                        {
                            GemmMicrokernel256.Run(kc, a + (p * kc * mr), b, c + (p * mr * nr), nr, mr, nr, 1f, 1f, spill);
                        }
                    }
                }

                calls += 16 * panels;
            }
            while (Stopwatch.GetTimestamp() - start < budget);
            double seconds = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
            return 2.0 * kc * mr * nr * calls / seconds;
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(a);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(b);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(c);
        }
    }
}
