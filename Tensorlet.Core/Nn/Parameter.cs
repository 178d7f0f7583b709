namespace Tensorlet.Nn;

/// <summary>
/// A named trainable tensor and its gradient. Both are views into the flat buffers of a
/// <see cref="ParameterCollection"/>, so the optimizer can update every parameter in one kernel.
/// </summary>
public sealed class Parameter
{
    private readonly ParameterCollection owner;
    private Tensor? value;
    private Tensor? gradient;
    private bool requiresGradient = true;

    internal Parameter(ParameterCollection owner, string name, int[] shape, Func<Random, float> initializer)
    {
        this.owner = owner;
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

    /// <summary>
    /// Whether the parameter is trained, as requires_grad: false freezes it. Optimizers then leave its values and their
    /// own state for it unchanged (weight decay included), and gradient clipping leaves its gradient out of the norm.
    /// Backward still accumulates its gradient (there is no tape to prune). True by default.
    /// </summary>
    /// <remarks>
    /// Adam's bias correction and SGD's first momentum step follow the optimizer's step count, so a parameter unfrozen
    /// after some steps starts from that count, where PyTorch counts steps per parameter.
    /// </remarks>
    public bool RequiresGradient
    {
        get => requiresGradient;
        set
        {
            if (value != requiresGradient)
            {
                requiresGradient = value;
                owner.OnRequiresGradientChanged();
            }
        }
    }

    /// <summary>The accumulated gradient (zeroed by the optimizer's ZeroGrad).</summary>
    public Tensor Gradient => gradient ?? throw new InvalidOperationException($"Parameter {Name} is not allocated yet: build its ParameterCollection first.");

    internal Func<Random, float> Initializer { get; }

    /// <summary>The collection that holds it.</summary>
    internal ParameterCollection Owner => owner;

    internal long Offset { get; private set; }

    internal void Bind(Tensor values, Tensor gradients, long offset)
    {
        Offset = offset;
        value = values;
        gradient = gradients;
    }
}
