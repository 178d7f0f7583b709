using Tensorlet.Optim;

namespace Tensorlet.Models.Checkpoints;

/// <summary>
/// The content of a safetensors file (https://github.com/huggingface/safetensors): named tensors and a
/// string-to-string metadata map. <see cref="Read"/> validates the whole file and names it in every
/// error; <see cref="Write"/> replaces a file atomically. This is the format PyTorch users exchange
/// state_dicts in, so a checkpoint written here loads with <c>load_state_dict</c> and vice versa.
/// </summary>
internal sealed class SafeTensorsFile
{
    /// <summary>The reserved header key that holds the metadata map.</summary>
    public const string MetadataKey = "__metadata__";

    private const int NamesListedInErrors = 20;

    internal SafeTensorsFile(string path, IReadOnlyDictionary<string, SafeTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The path the file was read from, as given.</summary>
    public string Path { get; }

    /// <summary>The tensors by name.</summary>
    public IReadOnlyDictionary<string, SafeTensor> Tensors { get; }

    /// <summary>The header's "__metadata__" map; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="CheckpointException">The file has no such tensor; the message lists the ones it has.</exception>
    public SafeTensor this[string name] =>
        Tensors.TryGetValue(name, out var tensor) ? tensor : throw new CheckpointException($"{Path} has no tensor '{name}'; it holds {DescribeNames()}.");

    /// <summary>The tensor called <paramref name="name"/>, checked to have <paramref name="expectedShape"/>.</summary>
    /// <exception cref="CheckpointException">The tensor is missing or has another shape (e.g. a checkpoint of a different model size).</exception>
    public SafeTensor Get(string name, params int[] expectedShape)
    {
        var tensor = this[name];
        if (!tensor.Shape.SequenceEqual(expectedShape))
        {
            throw new CheckpointException(
                $"{Path}: tensor '{name}' has shape {tensor.ShapeText}, expected {SafeTensor.FormatShape(expectedShape.Select(d => (long)d))}.");
        }

        return tensor;
    }

    /// <summary>
    /// The float32 values of <paramref name="tensor"/>, one of this file's, refusing an integer or bool tensor: weights and
    /// optimizer state are floating-point, and integer bytes read as numbers look like a model (an "I32" dtype over float
    /// bytes gives values near ±1e9, "BOOL" gives 0s and 1s), so loading one would hide the damage. Integer tensors stay
    /// readable where a file holds them on purpose (token indices), through <see cref="SafeTensor.ToInt64Array"/>.
    /// </summary>
    /// <param name="tensor">A tensor of this file.</param>
    /// <param name="what">What the values are, for the message: "the module's weights", "Adam's state".</param>
    /// <exception cref="CheckpointException">The tensor is of an integer or bool dtype.</exception>
    public float[] FloatData(SafeTensor tensor, string what)
    {
        if (tensor.DType.IsInteger())
        {
            throw new CheckpointException(
                $"{Path}: tensor '{tensor.Name}' is {tensor.DType.Name()}, {(tensor.DType == SafeTensorDType.Bool ? "a bool" : "an integer")} dtype, which cannot hold {what}: only F32, F64, F16 and BF16 tensors are read as float32.");
        }

        return tensor.Data;
    }

    /// <summary>
    /// The float32 values of <paramref name="tensor"/>, as <see cref="FloatData"/> gives them, refusing a NaN or an
    /// infinity: weights hold neither (training stops at a non-finite loss and a save refuses one), so one is damage,
    /// which loaded would show only later, as NaN losses or weights far from the cause. (An optimizer's mean of squares
    /// may hold +∞; its state file checks its own values.)
    /// </summary>
    /// <param name="tensor">A tensor of this file.</param>
    /// <param name="what">What the values are, for the message: "the module's weights".</param>
    /// <exception cref="CheckpointException">The tensor is of an integer or bool dtype, or holds a value that is not finite.</exception>
    public float[] FiniteFloatData(SafeTensor tensor, string what)
    {
        var data = FloatData(tensor, what);
        if (StateChecks.IndexOfInvalid(data, nonNegative: false) is var bad and >= 0)
        {
            throw new CheckpointException($"{Path}: tensor '{tensor.Name}' holds a non-finite value ({data[bad]}) at element {bad}; the file is damaged.");
        }

        return data;
    }

    /// <summary>Reads and validates a safetensors file.</summary>
    /// <exception cref="CheckpointException">The file is missing, unreadable, truncated, malformed or holds an unsupported dtype; the message names the file and the problem.</exception>
    public static SafeTensorsFile Read(string path) => SafeTensorsReader.Read(path);

    /// <summary>
    /// Writes <paramref name="tensors"/> and <paramref name="metadata"/> to <paramref name="path"/> atomically:
    /// a temporary file in the same folder, flushed to disk, then renamed over the target. On any failure
    /// an existing file is left untouched and no temporary file remains. The folder is created if needed.
    /// </summary>
    /// <exception cref="CheckpointException">Two tensors share a name, a dtype cannot be written, or the file system refused; nothing was changed.</exception>
    public static void Write(string path, IEnumerable<SafeTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensorsWriter.Write(path, tensors, metadata);

    private string DescribeNames()
    {
        if (Tensors.Count == 0)
        {
            return "no tensors";
        }

        var names = Tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var shown = string.Join(", ", names.Take(NamesListedInErrors));
        return names.Count > NamesListedInErrors ? $"{shown} and {names.Count - NamesListedInErrors} more" : shown;
    }
}
