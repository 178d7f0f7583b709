using System.Globalization;
using Tensorlet.Nn;

namespace Tensorlet.Optim;

/// <summary>Gradient clipping for any optimizer, as torch.nn.utils.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients so their global L2 norm is at most <paramref name="maxNorm"/>, as
    /// torch.nn.utils.clip_grad_norm_ does (by maxNorm / (norm + 1e-6) when that is below 1), and returns the norm before clipping.
    /// An infinite <paramref name="maxNorm"/> clips nothing, as in PyTorch.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN: PyTorch would flip every
    /// gradient's sign for a negative one, and skip clipping for NaN, both without a word.</exception>
    public static double ClipGradientNorm(ParameterCollection parameters, double maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, string.Create(CultureInfo.InvariantCulture, $"maxNorm must be at least 0; got {maxNorm}."));
        }

        double norm = Math.Sqrt(Ops.SumOfSquares(parameters.Gradients));
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
        {
            Ops.Scale(parameters.Gradients, (float)scale);
        }

        return norm;
    }
}
