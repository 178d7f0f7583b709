using ILGPU;
using ILGPU.Algorithms;

namespace Tensorlet.Kernels.Ilgpu;

/// <summary>One torch.optim.RMSprop step, one thread per parameter; the same arithmetic as the CPU kernel (see <see cref="Cpu.CpuRMSprop"/>).</summary>
internal static class RMSpropKernel
{
    /// <summary>
    /// Updates parameters[i] and its states in place from gradients[i]. The momentum buffer is touched only when μ ≠ 0
    /// and the mean gradient only when centered; otherwise any view of the parameters' length may stand in for them.
    /// </summary>
    public static void Step(Index1D i, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> squareAverage, ArrayView<float> momentumBuffer, ArrayView<float> gradientAverage, RMSpropCoefficients k)
    {
        float p = parameters[i];
        float g = gradients[i];
        if (k.WeightDecay != 0f)
        {
            g += k.WeightDecay * p;
        }

        float s = (k.Alpha * squareAverage[i]) + (k.OneMinusAlpha * g * g);
        if (k.FlushSquareAverage != 0)
        {
            s = KernelMath.FlushSubnormal(s);
        }

        squareAverage[i] = s;
        if (k.Centered != 0)
        {
            float a = KernelMath.FlushSubnormal((k.Alpha * gradientAverage[i]) + (k.OneMinusAlpha * g));
            gradientAverage[i] = a;
            s = XMath.Max(s - (a * a), 0f);
        }

        float update = g / (XMath.Sqrt(s) + k.Epsilon);
        if (k.Momentum != 0f)
        {
            update = KernelMath.FlushSubnormal((k.Momentum * momentumBuffer[i]) + update);
            momentumBuffer[i] = update;
        }

        parameters[i] = p - (k.LearningRate * update);
    }
}
