namespace Tensorlet.Nn;

/// <summary>
/// The refusal of a tensor given to a module on another device than the one it works on. Modules check this first,
/// before any of their buffers or saved tensors change: <see cref="Ops"/> would refuse the mix too, but only after a
/// buffer had been remade on the other device, which frees what the last Forward left for Backward.
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
    /// How a refusal names <paramref name="device"/> beside <paramref name="other"/>: by its name, or, for a separate
    /// instance of the same kind (two <c>Device.Create("cpu")</c>), as such.
    /// </summary>
    public static string NameBeside(Device device, Device other) =>
        device.Name == other.Name ? $"another {device.Name} device (a separate Device instance)" : device.Name;
}
