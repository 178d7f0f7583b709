namespace Tensorlet.Nn;

/// <summary>The shape rule of the losses over values (<see cref="MseLoss"/> and the others): a target shaped as its prediction, axes of size 1 aside.</summary>
internal static class ValueTargetShape
{
    /// <summary>
    /// Throws unless <paramref name="target"/> pairs with <paramref name="prediction"/> element by element in row-major
    /// order: the shapes must agree once axes of size 1 are left out. The Trainer hands over a batch's targets flat
    /// ([B] for a [B, 1] prediction), and unlike PyTorch a [B] target never broadcasts against a [B, 1] prediction into
    /// B × B pairs; a [2, 3] target for a [3, 2] prediction is refused.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ beyond axes of size 1; the message names <paramref name="loss"/>.</exception>
    public static void ThrowUnlessPaired(string loss, Tensor prediction, Tensor target)
    {
        if (!SameShapeIgnoringOnes(prediction.Shape, target.Shape))
        {
            throw new ArgumentException($"{loss} needs a target shaped as the prediction {prediction.ShapeText}; got {target.ShapeText}.", nameof(target));
        }
    }

    // An index loop, not LINQ: the loss runs every batch, and training allocates nothing per batch.
    private static bool SameShapeIgnoringOnes(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        int i = 0, j = 0;
        while (true)
        {
            while (i < a.Count && a[i] == 1)
            {
                i++;
            }

            while (j < b.Count && b[j] == 1)
            {
                j++;
            }

            if (i == a.Count || j == b.Count)
            {
                return i == a.Count && j == b.Count;
            }

            if (a[i++] != b[j++])
            {
                return false;
            }
        }
    }
}
