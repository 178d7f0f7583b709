using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>
/// The fused elementwise losses (<see cref="ElementwiseLossKind"/>), first stage of their deterministic sum: thread t
/// writes the gradient of elements t, t + T, t + 2T, … (T threads) and sums their losses in double into partials[t],
/// as <see cref="ReductionKernels.SumOfSquaresPartial"/> does; the host adds the T partials in order. Each loss is
/// computed as its CPU operator computes it (ElementwiseLossOperators.cs), with <see cref="KernelMath"/>.
/// </summary>
internal static class ElementwiseLossKernels
{
    /// <summary>
    /// gradient[e] = gradScale·dℓ/dx[e] and partials[t] = Σ_{e ≡ t mod T} ℓ(x[e], y[e], p), T = partials.Length, for
    /// the loss <paramref name="kind"/> (an <see cref="ElementwiseLossKind"/> as int: the branch is uniform) with β or δ
    /// in <paramref name="parameter"/>; p = posWeight[e mod C], C = posWeight.Length, or 1 where it is empty.
    /// </summary>
    public static void Partial(
        Index1D t, ArrayView<float> x, ArrayView<float> y, ArrayView<float> posWeight, ArrayView<float> gradient, ArrayView<double> partials, int kind, float parameter, float gradScale)
    {
        long stride = partials.Length;
        long columns = posWeight.Length;
        double sum = 0;
        for (long e = t; e < x.Length; e += stride)
        {
            float xe = x[e];
            float ye = y[e];
            float d = xe - ye;
            float z = XMath.Abs(d);
            float loss;
            float g;
            if (kind == (int)ElementwiseLossKind.Mse)
            {
                loss = d * d;
                g = d;
            }
            else if (kind == (int)ElementwiseLossKind.L1)
            {
                loss = z;
                g = z > 0f ? (d < 0f ? -1f : 1f) : 0f;
            }
            else if (kind == (int)ElementwiseLossKind.SmoothL1)
            {
                // Comparisons, not PTX min and max, which would turn NaN into a number.
                float slope = d / parameter;
                slope = slope < -1f ? -1f : slope > 1f ? 1f : slope;
                g = d <= -parameter ? -1f : slope;
                loss = z < parameter ? 0.5f * d * d / parameter : z - (0.5f * parameter);
            }
            else if (kind == (int)ElementwiseLossKind.Huber)
            {
                g = d < -parameter ? -parameter : d > parameter ? parameter : d;
                loss = z < parameter ? 0.5f * d * d : parameter * (z - (0.5f * parameter));
            }
            else
            {
                float p = columns == 0 ? 1f : posWeight[e % columns];
                float ex = KernelMath.Exp(-XMath.Abs(xe));
                float onePlusE = 1f + ex;
                float sigmoid = (xe < 0f ? ex : 1f) / onePlusE;
                float w = columns == 0 ? 1f : ((p - 1f) * ye) + 1f;
                g = (w * sigmoid) - (p * ye);
                float log1p = onePlusE == 1f ? ex : KernelMath.Log(onePlusE) * ex / (onePlusE - 1f);
                loss = (xe < 0f ? -(p * ye) * xe : (1f - ye) * xe) + (w * log1p);
            }

            gradient[e] = g * gradScale;
            sum += loss;
        }

        partials[t] = sum;
    }
}
