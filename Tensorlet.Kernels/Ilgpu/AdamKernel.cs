using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>One torch.optim.Adam step, one thread per parameter; the same arithmetic as the CPU kernel (see <see cref="Cpu.CpuAdam"/>).</summary>
internal static class AdamKernel
{
    /// <summary>
    /// Updates parameters[i], m[i] and v[i] in place from gradients[i], and with amsgrad the running maximum vMax[i];
    /// without it vMax is not touched, and any view of the parameters' length may stand in for it.
    /// </summary>
    public static void Step(Index1D i, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, ArrayView<float> vMax, AdamCoefficients k)
    {
        float p = parameters[i];
        float g = gradients[i];
        if (k.WeightDecay != 0f)
        {
            g += k.WeightDecay * p;
        }

        float mi = KernelMath.FlushSubnormal((k.Beta1 * m[i]) + (k.OneMinusBeta1 * g));
        float vi = KernelMath.FlushSubnormal((k.Beta2 * v[i]) + (k.OneMinusBeta2 * g * g));
        m[i] = mi;
        v[i] = vi;
        if (k.Amsgrad != 0)
        {
            vi = XMath.Max(vMax[i], vi);
            vMax[i] = vi;
        }

        float denom = (XMath.Sqrt(vi) * k.InverseSqrtBiasCorrection2) + k.Epsilon;
        parameters[i] = p - (k.StepSize * (mi / denom));
    }
}
