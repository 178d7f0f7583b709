namespace Tensorlet.Nn;

/// <summary>
/// nn.CrossEntropyLoss on logits [..., C] (the last dimension holds the classes) and class indices [...], through the
/// fused softmax + cross-entropy kernel. Targets equal to <see cref="IgnoreIndex"/> add nothing to the loss or the
/// gradient, and the mean is over the others, as in PyTorch.
/// </summary>
public sealed class CrossEntropyLoss : ILoss<IndexTensor>
{
    private readonly Workspace rowLosses = new();
    private readonly Workspace logitGradients = new();
    private readonly Workspace rowWeights = new();
    private readonly ShapeView logitMatrix = new();
    private readonly ShapeView gradientShaped = new();
    private readonly FlatIndexView flatTargets = new();
    private IndexTensor? substituted;
    private float[] hostLosses = [];
    private int[] hostTargets = [];
    private float[] hostWeights = [];
    private Tensor? gradient;
    private Tensor? lastLosses;
    private int counted;

    /// <summary>Creates the loss.</summary>
    /// <param name="reduction">Mean (the default) or sum over the targets.</param>
    /// <param name="ignoreIndex">A target value that is skipped; PyTorch's default is −100.</param>
    public CrossEntropyLoss(Reduction reduction = Reduction.Mean, int ignoreIndex = -100)
    {
        Reduction = reduction;
        IgnoreIndex = ignoreIndex;
    }

    /// <summary>Mean or sum.</summary>
    public Reduction Reduction { get; }

    /// <summary>The target value that is skipped.</summary>
    public int IgnoreIndex { get; }

    /// <summary>The per-row losses [N] of the last Forward (0 for ignored rows), in nats, owned by the loss.</summary>
    internal Tensor RowLosses => lastLosses ?? throw new InvalidOperationException("CrossEntropyLoss.Forward has not run.");

    /// <summary>The number of rows that counted (targets not ignored) in the last Forward.</summary>
    internal int CountedRows => counted;

    /// <inheritdoc/>
    public double Forward(Tensor prediction, IndexTensor target)
    {
        var losses = ForwardRows(prediction, target);
        int rows = (int)losses.Length;
        if (hostLosses.Length < rows)
        {
            hostLosses = new float[rows];
        }

        losses.CopyTo(hostLosses.AsSpan(0, rows));
        double sum = 0;
        for (int i = 0; i < rows; i++)
        {
            sum += hostLosses[i];
        }

        return Reduction == Reduction.Sum ? sum : sum / counted;
    }

    /// <inheritdoc/>
    public Tensor Backward() => gradient ?? throw new InvalidOperationException("CrossEntropyLoss.Backward was called before Forward.");

    /// <summary>
    /// As <see cref="Forward"/>, without reading the loss back: returns the per-row losses [N, 1] and keeps the gradient
    /// of the reduced loss for <see cref="Backward"/>.
    /// </summary>
    public Tensor ForwardRows(Tensor prediction, IndexTensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        int classes = prediction.Shape[^1];
        int rows = ShapeView.RowsByLast(prediction);
        if (target.Length != rows)
        {
            throw new ArgumentException($"Cross-entropy needs one target per row of the logits {prediction.ShapeText} ({rows}), but got targets {target.ShapeText}.", nameof(target));
        }

        var device = prediction.Device;
        var logits = prediction.Rank == 2 ? prediction : logitMatrix.Matrix(prediction, rows, classes);
        var targets = flatTargets.Of(target);
        var losses = rowLosses.Get(device, rows, 1);
        var dLogits = logitGradients.Get(device, rows, classes);
        lastLosses = losses;
        if (!targets.MayContain(IgnoreIndex))
        {
            counted = rows;
            Ops.SoftmaxCrossEntropy(logits, targets, losses, dLogits, Reduction == Reduction.Sum ? 1f : 1f / rows);
        }
        else
        {
            RunWithIgnored(logits, targets, losses, dLogits, rows);
        }

        gradient = prediction.Rank == 2 ? dLogits : gradientShaped.Like(dLogits, prediction, classes);
        return losses;
    }

    /// <summary>Frees the loss's buffers.</summary>
    public void Dispose()
    {
        rowLosses.Dispose();
        logitGradients.Dispose();
        rowWeights.Dispose();
        substituted?.Dispose();
    }

    // Ignored rows run through the kernel with target 0, and then get weight 0 in both the loss and the gradient.
    private void RunWithIgnored(Tensor logits, IndexTensor targets, Tensor losses, Tensor dLogits, int rows)
    {
        if (hostTargets.Length < rows)
        {
            hostTargets = new int[rows];
            hostWeights = new float[rows];
        }

        var host = hostTargets.AsSpan(0, rows);
        targets.CopyTo(host);
        counted = 0;
        for (int i = 0; i < rows; i++)
        {
            bool keep = host[i] != IgnoreIndex;
            hostWeights[i] = keep ? 1f : 0f;
            host[i] = keep ? host[i] : 0;
            counted += keep ? 1 : 0;
        }

        if (substituted is null || substituted.Length < rows || !ReferenceEquals(substituted.Device, logits.Device))
        {
            substituted?.Dispose();
            substituted = logits.Device.IndexZeros(rows);
        }

        var safeTargets = substituted.Length == rows ? substituted : substituted.Slice(0, rows);
        safeTargets.CopyFrom(host);
        var weights = rowWeights.Get(logits.Device, rows, 1);
        weights.CopyFrom(hostWeights.AsSpan(0, rows));
        // With every target ignored the mean is 0/0, NaN (Forward gives it, as PyTorch does), but its gradient is zero,
        // as PyTorch's is: a scale of NaN would make every row's NaN·0 = NaN.
        float scale = Reduction == Reduction.Sum || counted == 0 ? 1f : 1f / counted;
        Ops.SoftmaxCrossEntropy(logits, safeTargets, losses, dLogits, scale);
        Ops.ScaleRows(dLogits, weights);
        Ops.Multiply(losses, weights, losses);
    }
}
