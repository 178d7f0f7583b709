namespace Tensorlet.Nn;

/// <summary>nn.MSELoss: the mean (or sum) of (prediction − target)² over every element; the gradient is 2(prediction − target)/N (or without /N).</summary>
public sealed class MseLoss : ILoss<Tensor>
{
    private readonly Workspace difference = new();
    private readonly ShapeView gradientShaped = new();
    private Tensor? gradient;

    /// <summary>Creates the loss.</summary>
    public MseLoss(Reduction reduction = Reduction.Mean)
    {
        Reduction = reduction;
    }

    /// <summary>Mean or sum.</summary>
    public Reduction Reduction { get; }

    /// <inheritdoc/>
    public double Forward(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        DeviceMismatch.ThrowUnlessTogether("MSE", prediction, target);
        // Paired element by element in row-major order. The shapes must agree once axes of size 1 are left out: the
        // Trainer hands over a batch's targets flat ([B] for a [B, 1] prediction), and unlike PyTorch a [B] target never
        // broadcasts against a [B, 1] prediction into B × B pairs; a [2, 3] target for a [3, 2] prediction is refused.
        if (!SameShapeIgnoringOnes(prediction.Shape, target.Shape))
        {
            throw new ArgumentException($"MSE needs a target shaped as the prediction {prediction.ShapeText}; got {target.ShapeText}.", nameof(target));
        }

        var d = difference.Get(prediction.Device, prediction.Rows, prediction.Columns);
        Ops.Add(prediction, target, d, -1f);
        double sum = Ops.SumOfSquares(d);
        long n = prediction.Length;
        Ops.Scale(d, Reduction == Reduction.Sum ? 2f : (float)(2.0 / n));
        gradient = prediction.Rank == 2 ? d : gradientShaped.Like(d, prediction, prediction.Shape[^1]);
        return Reduction == Reduction.Sum ? sum : sum / n;
    }

    /// <inheritdoc/>
    public Tensor Backward() => gradient ?? throw new InvalidOperationException("MseLoss.Backward was called before Forward.");

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

    /// <summary>Frees the loss's buffer.</summary>
    public void Dispose() => difference.Dispose();
}
