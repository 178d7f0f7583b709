namespace Tensorlet.Nn;

/// <summary>
/// nn.Sequential: runs its children in order, each on the previous one's output, and Backward runs their backward
/// passes in reverse, each on the gradient the next one returned. The first child may take token indices
/// (<see cref="Embedding"/>, or a <see cref="Linear"/> or <see cref="Lstm"/> on one-hot input); the others take the
/// float tensor before them. Children are named "0", "1", … as in PyTorch, or by the names given.
/// </summary>
public class Sequential : Module
{
    private readonly Module[] layers;

    /// <summary>Chains <paramref name="modules"/>, named "0", "1", ….</summary>
    public Sequential(params Module[] modules)
        : this(modules.Select((m, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), m)).ToArray())
    {
    }

    /// <summary>Chains named modules (PyTorch's OrderedDict form); the names become the state_dict prefixes.</summary>
    public Sequential(params (string Name, Module Module)[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        if (modules.Length == 0)
        {
            throw new ArgumentException("A Sequential needs at least one module.", nameof(modules));
        }

        // Every child checked before any is adopted, so a refused Sequential leaves its modules free for another.
        for (int i = 0; i < modules.Length; i++)
        {
            CheckNewChild(modules[i].Name, modules[i].Module, modules.Take(i).Select(m => new KeyValuePair<string, Module>(m.Name, m.Module)));
        }

        layers = new Module[modules.Length];
        for (int i = 0; i < modules.Length; i++)
        {
            layers[i] = AddModule(modules[i].Name, modules[i].Module);
        }
    }

    /// <summary>The number of children.</summary>
    public int Count => layers.Length;

    /// <summary>The child at <paramref name="index"/>.</summary>
    public Module this[int index] => layers[index];

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        var x = layers[0].Forward(input);
        return ForwardRest(x);
    }

    /// <inheritdoc/>
    public override Tensor Forward(IndexTensor input)
    {
        ThrowIfModuleDisposed();
        ArgumentNullException.ThrowIfNull(input);
        CheckInputDevice(input);
        var x = layers[0].Forward(input);
        return ForwardRest(x);
    }

    /// <summary>
    /// Runs the children's backward passes last to first; returns the first child's input gradient (null for indices).
    /// Sealed: it is <see cref="Backward(Tensor, bool)"/> with true, and a container or the training step calls that
    /// overload, so a subclass that changes the backward pass overrides the overload, which every caller reaches.
    /// </summary>
    public sealed override Tensor? Backward(Tensor outputGradient) => Backward(outputGradient, computeInputGradient: true);

    /// <summary>
    /// As <see cref="Backward(Tensor)"/>; <paramref name="computeInputGradient"/> goes to the first child alone (every
    /// other child's input gradient is the gradient of the child before it), which with false may skip its input
    /// gradient and return null.
    /// </summary>
    public override Tensor? Backward(Tensor outputGradient, bool computeInputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        CheckGradientDevice(outputGradient);
        Tensor? gradient = outputGradient;
        for (int i = layers.Length - 1; i >= 0; i--)
        {
            gradient = layers[i].Backward(gradient!, i > 0 || computeInputGradient);
            if (gradient is null && i > 0)
            {
                throw new InvalidOperationException($"Child {Children[i].Key} ({layers[i].GetType().Name}) returned no input gradient, but it is not the first module.");
            }
        }

        return gradient;
    }

    private Tensor ForwardRest(Tensor x)
    {
        for (int i = 1; i < layers.Length; i++)
        {
            x = layers[i].Forward(x);
        }

        return x;
    }
}
