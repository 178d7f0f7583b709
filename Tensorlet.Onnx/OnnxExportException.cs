namespace Tensorlet.Onnx;

/// <summary>
/// A model, layer or parameter that cannot be exported to ONNX. The message names it (the layer's state_dict
/// prefix or the model's type) and says why.
/// </summary>
public sealed class OnnxExportException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    public OnnxExportException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public OnnxExportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public OnnxExportException()
        : base("The model cannot be exported to ONNX.")
    {
    }
}
