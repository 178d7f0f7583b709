using System.Globalization;
using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>Gradient clipping for any optimizer, as torch.nn.utils.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients so their global L2 norm is at most <paramref name="maxNorm"/>, as
    /// torch.nn.utils.clip_grad_norm_ does (by maxNorm / (norm + 1e-6) when that is below 1), and returns the norm before clipping.
    /// Frozen parameters (<see cref="Parameter.RequiresGradient"/> false) are left out of the norm and are not scaled.
    /// An infinite <paramref name="maxNorm"/> clips nothing, as in PyTorch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN: PyTorch would flip every
    /// gradient's sign for a negative one, and skip clipping for NaN, both without a word.</exception>
    public static double ClipGradientNorm(ParameterCollection parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), string.Create(CultureInfo.InvariantCulture, $"maxNorm must be at least 0; got {maxNorm}."));
        }

        // Over the parameters that require a gradient, as PyTorch's over those that have one.
        var runs = parameters.Trainable.Runs;
        double sum = 0;
        foreach (var run in runs)
        {
            sum += Ops.SumOfSquares(run[1]);
        }

        double norm = Math.Sqrt(sum);
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
        {
            foreach (var run in runs)
            {
                Ops.Scale(run[1], (float)scale);
            }
        }

        return norm;
    }
}
