namespace Tensorlet.Nn;

/// <summary>
/// The refusal of a tensor given to a module or a loss on another device than the one it works on. Modules and losses
/// check this first, before any of their buffers or saved tensors change: <see cref="Ops"/> would refuse the mix too,
/// but only after a buffer had been remade on the other device, which frees what the last Forward left for Backward.
/// </summary>
internal static class DeviceMismatch
{
    /// <summary>
    /// One line, "{owner} is on {ownerDevice}, but {what} is on {device}: {remedy}.", the second device named as
    /// <see cref="NameBeside"/> does.
    /// </summary>
    public static ArgumentException Error(string owner, Device ownerDevice, string what, Device device, string remedy, string paramName) =>
        new($"{owner} is on {ownerDevice.Name}, but {what} is on {NameBeside(device, ownerDevice)}: {remedy}.", paramName);

    /// <summary>
    /// Throws unless a loss's <paramref name="prediction"/> and <paramref name="target"/> are live and on one device. A
    /// loss has no device of its own (it works where its prediction is), so this is its one device check; it runs before
    /// any of the loss's buffers is remade on the prediction's device, which would free the last Forward's gradient.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The prediction or the target is disposed.</exception>
    /// <exception cref="ArgumentException">The two are on different devices.</exception>
    public static void ThrowUnlessTogether<T>(string loss, Tensor prediction, DeviceTensor<T> target)
        where T : unmanaged
    {
        prediction.ThrowIfDisposed();
        target.ThrowIfDisposed();
        if (!ReferenceEquals(target.Device, prediction.Device))
        {
            throw Error($"{loss}'s prediction {prediction.ShapeText}", prediction.Device, $"its target {target.ShapeText}", target.Device, "give the prediction and the target on one device", nameof(target));
        }
    }

    /// <summary>
    /// How a refusal names <paramref name="device"/> beside <paramref name="other"/>: by its name, or, for a separate
    /// instance of the same kind (two <c>Device.Create("cpu")</c>), as such.
    /// </summary>
    public static string NameBeside(Device device, Device other) =>
        device.Name == other.Name ? $"another {device.Name} device (a separate Device instance)" : device.Name;
}
