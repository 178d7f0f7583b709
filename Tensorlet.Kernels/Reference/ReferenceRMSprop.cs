namespace Tensorlet.Kernels.Reference;

/// <summary>torch.optim.RMSprop's update (PyTorch 1.13 _single_tensor_rmsprop) in float64, written as PyTorch writes it.</summary>
internal static class ReferenceRMSprop
{
    /// <summary>
    /// One step in place. <paramref name="momentumBuffer"/> is used only when <paramref name="momentum"/> &gt; 0 and
    /// <paramref name="gradientAverage"/> only when <paramref name="centered"/>; every state starts at zero.
    /// </summary>
    public static void Step(Span<double> parameters, ReadOnlySpan<double> gradients, Span<double> squareAverage, Span<double> momentumBuffer, Span<double> gradientAverage, double learningRate, double alpha, double epsilon, double weightDecay, double momentum, bool centered)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            double g = gradients[i];
            if (weightDecay != 0)
            {
                g += weightDecay * parameters[i];
            }

            squareAverage[i] = (alpha * squareAverage[i]) + ((1 - alpha) * g * g);
            double average;
            if (centered)
            {
                gradientAverage[i] = (alpha * gradientAverage[i]) + ((1 - alpha) * g);
                average = Math.Sqrt(squareAverage[i] - (gradientAverage[i] * gradientAverage[i]));
            }
            else
            {
                average = Math.Sqrt(squareAverage[i]);
            }

            average += epsilon;
            if (momentum > 0)
            {
                momentumBuffer[i] = (momentum * momentumBuffer[i]) + (g / average);
                parameters[i] -= learningRate * momentumBuffer[i];
            }
            else
            {
                parameters[i] -= learningRate * (g / average);
            }
        }
    }
}
