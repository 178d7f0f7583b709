namespace Tensorlet.Onnx;

/// <summary>The element types of the graph inputs and outputs the exporter writes (values are ONNX's TensorProto.DataType).</summary>
internal enum OnnxElementType
{
    /// <summary>float32: activations, logits, states.</summary>
    Float = 1,

    /// <summary>int64: token ids.</summary>
    Int64 = 7,
}
