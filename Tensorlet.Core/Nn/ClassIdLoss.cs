namespace Tensorlet.Nn;

/// <summary>
/// A loss over class ids (<see cref="CrossEntropyLoss"/>, <see cref="NllLoss"/>): one loss per row of a prediction
/// [..., C] (the last dimension holds the classes) against one class id per row [...], from a row kernel that writes
/// each row's loss and its gradient at once. Targets equal to <see cref="IgnoreIndex"/> add nothing to the loss or the
/// gradient, and the mean is over the others, as in PyTorch: the kernel writes their row loss as 0 whatever the row
/// holds (a −∞ or NaN there gives 0, not NaN), and their gradient as PyTorch's, 0 for <see cref="NllLoss"/> and
/// 0 − softmax·0 for <see cref="CrossEntropyLoss"/> (NaN where a logit of the row is NaN or +∞).
/// </summary>
public abstract class ClassIdLoss : ILoss<IndexTensor>, IReducedLoss
{
    private readonly string lossName;
    private readonly string inputName;
    private readonly RowKernel kernel;
    private readonly Workspace rowLosses = new();
    private readonly Workspace inputGradients = new();
    private readonly ShapeView inputMatrix = new();
    private readonly ShapeView gradientShaped = new();
    private readonly FlatIndexView flatTargets = new();
    private float[] hostLosses = [];
    private Tensor? gradient;
    private Tensor? lastLosses;

    /// <param name="lossName">The loss as its errors name it ("Cross-entropy").</param>
    /// <param name="inputName">What its prediction holds, as its errors name it ("logits").</param>
    /// <param name="reduction">Mean or sum over the targets that count.</param>
    /// <param name="ignoreIndex">The target value that is skipped.</param>
    /// <param name="kernel">Writes each row's loss and its gradient times gradScale, for every target in [0, C), and for
    /// a target equal to the ignore index it is given, a loss of 0 and PyTorch's gradient for an ignored row.</param>
    private protected ClassIdLoss(string lossName, string inputName, Reduction reduction, int ignoreIndex, RowKernel kernel)
    {
        this.lossName = lossName;
        this.inputName = inputName;
        this.kernel = kernel;
        Reduction = reduction;
        IgnoreIndex = ignoreIndex;
    }

    /// <summary>The row kernel: losses [N] and dInput [N, C] from input [N, C] and targets [N] in [0, C) or ignoreIndex.</summary>
    private protected delegate void RowKernel(Tensor input, IndexTensor targets, Tensor losses, Tensor dInput, float gradScale, int? ignoreIndex);

    /// <summary>Mean or sum.</summary>
    public Reduction Reduction { get; }

    /// <summary>The target value that is skipped.</summary>
    public int IgnoreIndex { get; }

    /// <summary>The per-row losses [N] of the last Forward (0 for ignored rows), owned by the loss.</summary>
    internal Tensor RowLosses => lastLosses ?? throw new InvalidOperationException($"{GetType().Name}.Forward has not run.");

    /// <summary>The number of rows that counted (targets not ignored) in the last Forward.</summary>
    internal int CountedRows { get; private set; }

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

        return Reduction == Reduction.Sum ? sum : sum / CountedRows;
    }

    /// <inheritdoc/>
    public Tensor Backward() => gradient ?? throw new InvalidOperationException($"{GetType().Name}.Backward was called before Forward.");

    /// <summary>
    /// As <see cref="Forward"/>, without reading the loss back: returns the per-row losses [N, 1] (0 for ignored rows)
    /// and keeps the gradient of the reduced loss for <see cref="Backward"/>.
    /// </summary>
    public Tensor ForwardRows(Tensor prediction, IndexTensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        DeviceMismatch.ThrowUnlessTogether(lossName, prediction, target);
        int classes = prediction.Shape[^1];
        int rows = ShapeView.RowsByLast(prediction);
        if (target.Length != rows)
        {
            throw new ArgumentException($"{lossName} needs one target per row of the {inputName} {prediction.ShapeText} ({rows}), but got targets {target.ShapeText}.", nameof(target));
        }

        // Checked (and counted) before the buffers are taken: on another device than the last Forward's they are remade, freeing its gradient.
        int counted = target.CheckTargets(classes, IgnoreIndex);
        var device = prediction.Device;
        var input = prediction.Rank == 2 ? prediction : inputMatrix.Matrix(prediction, rows, classes);
        var targets = flatTargets.Of(target);
        var losses = rowLosses.Get(device, rows, 1);
        var dInput = inputGradients.Get(device, rows, classes);
        lastLosses = losses;

        // With every target ignored the mean is 0/0, NaN (Forward gives it, as PyTorch does), but its gradient is zero,
        // as PyTorch's is: a scale of NaN would make every row's gradient NaN.
        float scale = Reduction == Reduction.Sum || counted == 0 ? 1f : 1f / counted;
        kernel(input, targets, losses, dInput, scale, IgnoreIndex);
        CountedRows = counted;

        gradient = prediction.Rank == 2 ? dInput : gradientShaped.Like(dInput, prediction, classes);
        return losses;
    }

    /// <summary>Frees the loss's buffers.</summary>
    public void Dispose()
    {
        rowLosses.Dispose();
        inputGradients.Dispose();
    }
}
