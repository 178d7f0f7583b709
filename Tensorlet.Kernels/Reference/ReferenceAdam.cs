namespace Tensorlet.Kernels.Reference;

/// <summary>torch.optim.Adam's update (PyTorch 1.13 _single_tensor_adam, amsgrad included) in float64, written as PyTorch writes it.</summary>
internal static class ReferenceAdam
{
    /// <summary>
    /// One step in place; <paramref name="step"/> counts from 1. With <paramref name="amsgrad"/>, <paramref name="vMax"/> keeps the running maximum of v and
    /// divides in its place (without, it is not touched and may be empty).
    /// </summary>
    public static void Step(Span<double> parameters, ReadOnlySpan<double> gradients, Span<double> m, Span<double> v, Span<double> vMax, double learningRate, double beta1, double beta2, double epsilon, double weightDecay, bool amsgrad, int step)
    {
        double biasCorrection1 = 1 - Math.Pow(beta1, step);
        double biasCorrection2 = 1 - Math.Pow(beta2, step);
        double stepSize = learningRate / biasCorrection1;
        double biasCorrection2Sqrt = Math.Sqrt(biasCorrection2);
        for (int i = 0; i < parameters.Length; i++)
        {
            double g = gradients[i];
            if (weightDecay != 0)
            {
                g += weightDecay * parameters[i];
            }

            m[i] = (beta1 * m[i]) + ((1 - beta1) * g);
            v[i] = (beta2 * v[i]) + ((1 - beta2) * g * g);
            double denom;
            if (amsgrad)
            {
                vMax[i] = Math.Max(vMax[i], v[i]);
                denom = (Math.Sqrt(vMax[i]) / biasCorrection2Sqrt) + epsilon;
            }
            else
            {
                denom = (Math.Sqrt(v[i]) / biasCorrection2Sqrt) + epsilon;
            }

            parameters[i] -= stepSize * (m[i] / denom);
        }
    }
}
