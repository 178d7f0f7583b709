namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// A checkpoint could not be read or written: the message names the file and what is wrong with it
/// (truncated, malformed header, unsupported dtype, a tensor missing or of the wrong shape, ...).
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception with a message that names the file and the problem.</summary>
    public CheckpointException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception wrapping the I/O or parse error that caused it.</summary>
    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
