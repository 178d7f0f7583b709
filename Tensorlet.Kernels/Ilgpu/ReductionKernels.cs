using ILGPU;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// Σ x² in double, first stage: thread t sums elements t, t + T, t + 2T, … (T threads, so each step of the
/// warp reads a contiguous span) into partials[t]; the host, which needs the value anyway, adds the T partials.
/// No barriers, so it is also quick on ILGPU's CPU accelerator.
/// </summary>
internal static class ReductionKernels
{
    /// <summary>partials[t] = Σ_{e ≡ t mod T} (double)x[e]², T = partials.Length.</summary>
    public static void SumOfSquaresPartial(Index1D t, ArrayView<float> x, ArrayView<double> partials)
    {
        long stride = partials.Length;
        double sum = 0;
        for (long e = t; e < x.Length; e += stride)
        {
            double v = x[e];
            sum += v * v;
        }

        partials[t] = sum;
    }
}
