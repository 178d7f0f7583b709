namespace Tensorlet.Nn;

/// <summary>
/// A loss as a module at the end of a model: <see cref="Forward"/> computes the loss and the gradient with respect to
/// the prediction, which <see cref="Backward"/> returns to start the model's backward pass:
/// <c>model.Backward(loss.Backward())</c>.
/// </summary>
/// <typeparam name="TTarget">The targets: class indices (<see cref="IndexTensor"/>) or values (<see cref="Tensor"/>).</typeparam>
public interface ILoss<in TTarget> : IDisposable
{
    /// <summary>The loss of <paramref name="prediction"/> against <paramref name="target"/>, read back to the host.</summary>
    double Forward(Tensor prediction, TTarget target);

    /// <summary>dL/d(prediction) of the last Forward, shaped as the prediction and owned by the loss.</summary>
    Tensor Backward();
}
