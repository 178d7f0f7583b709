namespace Tensorlet.Nn;

/// <summary>
/// A named trainable tensor and its gradient. Both are views into the flat buffers of a
/// <see cref="ParameterCollection"/>, so the optimizer can update every parameter in one kernel.
/// </summary>
public sealed class Parameter
{
    private Tensor? value;
    private Tensor? gradient;

    internal Parameter(string name, int[] shape, Func<Random, float> initializer)
    {
        Name = name;
        Shape = shape;
        Initializer = initializer;
    }

    /// <summary>The PyTorch state_dict name, e.g. <c>lstm.weight_ih_l0</c>.</summary>
    public string Name { get; }

    /// <summary>The shape, in PyTorch's layout.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>The number of elements.</summary>
    public long Length => Tensor.ElementCount([.. Shape]);

    /// <summary>The values.</summary>
    public Tensor Value => value ?? throw new InvalidOperationException($"Parameter {Name} is not allocated yet: build its ParameterCollection first.");

    /// <summary>The accumulated gradient (zeroed by the optimizer's ZeroGrad).</summary>
    public Tensor Gradient => gradient ?? throw new InvalidOperationException($"Parameter {Name} is not allocated yet: build its ParameterCollection first.");

    internal Func<Random, float> Initializer { get; }

    internal long Offset { get; private set; }

    internal void Bind(Tensor values, Tensor gradients, long offset)
    {
        Offset = offset;
        value = values;
        gradient = gradients;
    }
}
