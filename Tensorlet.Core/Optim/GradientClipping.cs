using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>Gradient clipping for any optimizer, as torch.nn.utils.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients so their global L2 norm is at most <paramref name="maxNorm"/>, as
    /// torch.nn.utils.clip_grad_norm_ does (by maxNorm / (norm + 1e-6) when that is below 1), and returns the norm before clipping.
    /// </summary>
    public static double ClipGradientNorm(ParameterCollection parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double norm = Math.Sqrt(Ops.SumOfSquares(parameters.Gradients));
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
        {
            Ops.Scale(parameters.Gradients, (float)scale);
        }

        return norm;
    }
}
