using Tensorlet.Kernels;

namespace Tensorlet.Nn;

/// <summary>
/// A loss over values whose terms are elementwise (<see cref="MseLoss"/>, <see cref="L1Loss"/>, <see cref="SmoothL1Loss"/>,
/// <see cref="HuberLoss"/>, <see cref="BceWithLogitsLoss"/>): the target is shaped as the prediction (axes of size 1
/// aside), and one fused kernel writes the gradient of the reduced loss into a buffer of
/// the loss's own and returns the sum of the terms, accumulated in double. Every check runs before the buffer is taken,
/// so a refused call leaves the last gradient as it was; steady-state calls allocate nothing on <c>cpu</c> (on ILGPU
/// devices, only what ILGPU's kernel launches allocate).
/// </summary>
public abstract class ElementwiseLoss : ILoss<Tensor>, IReducedLoss
{
    private readonly string lossName;
    private readonly ElementwiseLossKind kind;
    private readonly float parameter;
    private readonly Tensor? posWeight;
    private readonly Workspace gradients = new();
    private readonly ShapeView gradientShaped = new();
    private Tensor? gradient;

    /// <param name="lossName">The loss as its errors name it ("L1 loss").</param>
    /// <param name="kind">The kernel's loss.</param>
    /// <param name="parameter">β or δ, for the losses that take one.</param>
    /// <param name="reduction">Mean or sum over the elements.</param>
    /// <param name="posWeight">BCE's weight of the positive term per class of the last dimension, or null.</param>
    private protected ElementwiseLoss(string lossName, ElementwiseLossKind kind, float parameter, Reduction reduction, Tensor? posWeight = null)
    {
        this.lossName = lossName;
        this.kind = kind;
        this.parameter = parameter;
        this.posWeight = posWeight;
        Reduction = reduction;
    }

    /// <summary>Mean or sum.</summary>
    public Reduction Reduction { get; }

    /// <inheritdoc/>
    public double Forward(Tensor prediction, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        DeviceMismatch.ThrowUnlessTogether(lossName, prediction, target);
        ValueTargetShape.ThrowUnlessPaired(lossName, prediction, target);
        if (posWeight is not null)
        {
            posWeight.ThrowIfDisposed();
            if (!ReferenceEquals(posWeight.Device, prediction.Device))
            {
                throw DeviceMismatch.Error($"{lossName}'s prediction {prediction.ShapeText}", prediction.Device, $"its pos_weight {posWeight.ShapeText}", posWeight.Device, "create the pos_weight on the prediction's device", nameof(posWeight));
            }

            if (!IsOneWeightPerClass(posWeight, prediction.Shape[^1]))
            {
                throw new ArgumentException($"{lossName} needs a pos_weight of one value per class, shaped [{prediction.Shape[^1]}] for the prediction {prediction.ShapeText}, or one value for every class, shaped [1]; got {posWeight.ShapeText}.", nameof(posWeight));
            }
        }

        var g = gradients.Get(prediction.Device, prediction.Rows, prediction.Columns);
        long n = prediction.Length;

        // No elements: a sum of 0, and a mean of NaN (0/0), as PyTorch's.
        // MSE's kernel writes d, not 2d, and takes its 2 in the scale, as PyTorch's (2/n)·d.
        double factor = kind == ElementwiseLossKind.Mse ? 2 : 1;
        double sum = n == 0 ? 0 : Ops.ElementwiseLoss(kind, parameter, prediction, target, posWeight, g, Reduction == Reduction.Sum ? (float)factor : (float)(factor / n));
        gradient = prediction.Rank == 2 ? g : gradientShaped.Like(g, prediction, prediction.Shape[^1]);
        return Reduction == Reduction.Sum ? sum : sum / n;
    }

    // [C] or [1], or either with leading 1s: what broadcasts against the prediction's last dimension of C as one weight
    // per class, or as one for every class (the kernels read weight[i mod its length]).
    private static bool IsOneWeightPerClass(Tensor weight, int classes)
    {
        var shape = weight.Shape;
        for (int i = 0; i < shape.Count - 1; i++)
        {
            if (shape[i] != 1)
            {
                return false;
            }
        }

        return shape.Count > 0 && (shape[^1] == classes || shape[^1] == 1);
    }

    /// <inheritdoc/>
    public Tensor Backward() => gradient ?? throw new InvalidOperationException($"{GetType().Name}.Backward was called before Forward.");

    /// <summary>Frees the loss's buffer.</summary>
    public void Dispose() => gradients.Dispose();
}
