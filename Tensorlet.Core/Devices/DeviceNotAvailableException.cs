namespace Tensorlet;

/// <summary>Thrown when a device is asked for by name but is unknown or not present on this machine.</summary>
public sealed class DeviceNotAvailableException : Exception
{
    /// <summary>Creates the exception with a message that names the device and lists what is available.</summary>
    public DeviceNotAvailableException(string message)
        : base(message)
    {
    }
}
