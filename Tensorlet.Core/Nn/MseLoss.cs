namespace Tensorlet.Nn;

/// <summary>nn.MSELoss: the mean (or sum) of (prediction − target)² over every element; the gradient is 2(prediction − target)/N (or without /N).</summary>
public sealed class MseLoss : ILoss<Tensor>, IReducedLoss
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
        ValueTargetShape.ThrowUnlessPaired("MSE", prediction, target);
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

    /// <summary>Frees the loss's buffer.</summary>
    public void Dispose() => difference.Dispose();
}
