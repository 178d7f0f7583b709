using Tensorlet.Nn;

namespace Tensorlet.Models.Modeling;

/// <summary>
/// The check at the start of a char model's <see cref="ICharModel.ForwardLoss"/>: its loss would refuse targets that
/// are disposed, on another device or not one per input row, but only after the model's Forward had run, leaving
/// <see cref="ICharModel.Backward"/> with that Forward's saved tensors and the last loss's gradient.
/// </summary>
internal static class CharModelTargets
{
    /// <summary>Throws, naming the model, unless <paramref name="targets"/> are live, on the model's device, and one per input.</summary>
    /// <exception cref="ObjectDisposedException">The targets are disposed.</exception>
    /// <exception cref="ArgumentException">The targets are on another device than the model, or not as many as the inputs.</exception>
    public static void ThrowUnlessFit(Module model, IndexTensor inputs, IndexTensor targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        targets.ThrowIfDisposed();
        string name = model.GetType().Name;
        if (!ReferenceEquals(targets.Device, model.Device))
        {
            throw DeviceMismatch.Error(name, model.Device, $"its targets {targets.ShapeText}", targets.Device, "copy the targets to the model's device", nameof(targets));
        }

        if (targets.Length != inputs.Length)
        {
            throw new ArgumentException($"{name} needs one target per input ({inputs.Length}, inputs {inputs.ShapeText}), but got targets {targets.ShapeText}.", nameof(targets));
        }
    }
}
