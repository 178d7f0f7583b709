using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Tensorlet.Tests.Onnx;

/// <summary>An ONNX Runtime session over exported model bytes, with float and int64 inputs and float outputs by name.</summary>
internal sealed class OrtSession(byte[] model) : IDisposable
{
    private readonly InferenceSession session = new(model);

    /// <summary>The model's metadata_props.</summary>
    public IReadOnlyDictionary<string, string> Metadata => session.ModelMetadata.CustomMetadataMap;

    /// <summary>An int64 input.</summary>
    public static NamedOnnxValue Ids(string name, IEnumerable<int> ids, params int[] shape)
        => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(ids.Select(i => (long)i).ToArray(), shape));

    /// <summary>A float input.</summary>
    public static NamedOnnxValue Floats(string name, float[] data, params int[] shape)
        => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(data, shape));

    /// <summary>Runs the model and returns every float output as (shape, values).</summary>
    public Dictionary<string, (int[] Shape, float[] Data)> Run(params NamedOnnxValue[] inputs)
    {
        using var results = session.Run(inputs);
        return results.ToDictionary(r => r.Name, r =>
        {
            var tensor = r.AsTensor<float>();
            return (tensor.Dimensions.ToArray(), tensor.ToArray());
        });
    }

    public void Dispose() => session.Dispose();
}
