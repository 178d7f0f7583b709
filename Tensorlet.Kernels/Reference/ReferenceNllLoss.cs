namespace Tensorlet.Kernels.Reference;

/// <summary>The float64 nn.NLLLoss rows every NLL kernel is checked against.</summary>
internal static class ReferenceNllLoss
{
    /// <summary>
    /// losses[r] = −input[r, targets[r]]; dInput[r] = −onehot(targets[r])·gradScale; a row whose target is
    /// <paramref name="ignoreIndex"/> has loss 0 and gradient 0, as in PyTorch, whatever it holds.
    /// Throws <see cref="ArgumentOutOfRangeException"/> for another target outside [0, classes).
    /// </summary>
    public static void Rows(int rows, int classes, ReadOnlySpan<double> input, ReadOnlySpan<int> targets, Span<double> losses, Span<double> dInput, double gradScale, int? ignoreIndex = null)
    {
        for (int r = 0; r < rows; r++)
        {
            int target = targets[r];
            if (target == ignoreIndex)
            {
                losses[r] = 0;
                dInput.Slice(r * classes, classes).Clear();
                continue;
            }

            if (target < 0 || target >= classes)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), $"Target {target} of row {r} is outside [0, {classes}).");
            }

            losses[r] = -input[(r * classes) + target];
            for (int k = 0; k < classes; k++)
            {
                dInput[(r * classes) + k] = k == target ? -gradScale : 0;
            }
        }
    }
}
