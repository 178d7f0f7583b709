namespace Tensorlet.Nn;

/// <summary>
/// A layer or a model, as torch.nn.Module: named child modules, parameters under PyTorch's state_dict names (a
/// child's names prefixed by its own, dotted), a training or evaluation mode, and an explicit Forward and Backward.
/// <para>
/// There is no autograd tape. Forward keeps what Backward needs (its input, or its output) and returns its result
/// in a buffer the module owns and reuses, valid until the module's next Forward. Backward takes dL/d(output),
/// accumulates dL/d(parameter) into every parameter's gradient, and returns dL/d(input) in a buffer the module owns,
/// or null when the input has no gradient (token indices) or the caller needs none (<see cref="Backward(Tensor, bool)"/>).
/// Backward may use the gradient it is given as scratch. The library's modules refuse an input, or a gradient, on
/// another device than theirs before anything of theirs changes. Containers such as <see cref="Sequential"/> chain
/// these calls, so a model made of library modules needs no backward pass written by hand.
/// </para>
/// <para>
/// Parameters are created when the root module is built (<see cref="Build"/>): every parameter of the tree goes,
/// in state_dict order and with PyTorch's default initialisation drawn from one seed, into one
/// <see cref="ParameterCollection"/> owned by the root, which optimizers update with one kernel.
/// </para>
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Module>> children = [];
    private readonly List<ModuleBuffer> ownBuffers = [];
    private ParameterCollection? parameters;
    private Device? device;
    private ParameterCollection? rootParameters;
    private string statePrefix = string.Empty;
    private bool hasParent;
    private int firstParameter;
    private int parameterCount;
    private bool disposed;

    /// <summary>The child modules in registration order, under their names.</summary>
    public IReadOnlyList<KeyValuePair<string, Module>> Children => children;

    /// <summary>Whether the module is in training mode (dropout on); true until <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Whether <see cref="Build"/> has run on this module's tree.</summary>
    public bool IsBuilt { get; private set; }

    /// <summary>Every parameter of the tree, in state_dict order. Only the root owns them; build it first.</summary>
    public ParameterCollection Parameters => parameters ?? throw new InvalidOperationException(
        hasParent ? $"{GetType().Name} is a child module: its parameters belong to the root module's collection." : $"Build the {GetType().Name} (module.Build(device, seed)) before using its parameters.");

    /// <summary>The device the module's parameters live on, once the tree is built (a child's is its root's).</summary>
    /// <exception cref="InvalidOperationException">The tree has not been built.</exception>
    public Device Device => device ?? throw NotBuiltError();

    /// <summary>
    /// The buffers of this module and its children (state that is not a parameter, as BatchNorm1d's running statistics;
    /// see <see cref="ModuleBuffer"/>), in state_dict order, under their dotted names, as nn.Module.named_buffers().
    /// Build the root first.
    /// </summary>
    /// <exception cref="InvalidOperationException">The tree has not been built.</exception>
    public IReadOnlyList<ModuleBuffer> NamedBuffers
    {
        get
        {
            _ = rootParameters ?? throw NotBuiltError();
            var all = new List<ModuleBuffer>();
            AddBuffers(this, all);
            return all;

            static void AddBuffers(Module module, List<ModuleBuffer> all)
            {
                all.AddRange(module.ownBuffers);
                foreach (var child in module.children)
                {
                    AddBuffers(child.Value, all);
                }
            }
        }
    }

    /// <summary>
    /// Creates every parameter of the tree on <paramref name="device"/>, with PyTorch's default initialisation drawn in
    /// state_dict order from <paramref name="seed"/>, and seeds the dropout masks with it. Call once, on the root.
    /// </summary>
    /// <returns>This module.</returns>
    /// <exception cref="InvalidOperationException">The module is a child, has already been built, a buffer has a parameter's
    /// name, or its parameters together hold more values than one buffer can.</exception>
    public Module Build(Device device, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (hasParent)
        {
            throw new InvalidOperationException($"{GetType().Name} is a child module: build the root module instead.");
        }

        if (IsBuilt)
        {
            throw new InvalidOperationException($"{GetType().Name} has already been built.");
        }

        var collection = new ParameterCollection();
        int ordinal = 0;
        CreateParametersRecursive(collection, string.Empty, ref ordinal);
        CheckBufferNames(this, collection);
        collection.Build(device, seed);
        parameters = collection;
        MarkBuilt(this, device, collection);
        SetRandomState((ulong)seed, 0);
        return this;

        // A buffer named as a parameter of its module would give the state_dict one name twice.
        static void CheckBufferNames(Module module, ParameterCollection collection)
        {
            foreach (var buffer in module.ownBuffers)
            {
                string name = JoinName(module.statePrefix, buffer.LocalName);
                if (collection.Parameters.Any(p => p.Name == name))
                {
                    throw new InvalidOperationException($"{module.GetType().Name} has a buffer and a parameter both named '{name}'.");
                }
            }

            foreach (var child in module.children)
            {
                CheckBufferNames(child.Value, collection);
            }
        }

        static void MarkBuilt(Module module, Device device, ParameterCollection collection)
        {
            module.IsBuilt = true;
            module.device = device;
            module.rootParameters = collection;
            foreach (var buffer in module.ownBuffers)
            {
                buffer.Allocate(JoinName(module.statePrefix, buffer.LocalName), device);
            }

            foreach (var child in module.children)
            {
                MarkBuilt(child.Value, device, collection);
            }
        }
    }

    /// <summary>Sets training mode (dropout on) for this module and every child, as nn.Module.train().</summary>
    /// <returns>This module.</returns>
    public Module Train(bool training = true)
    {
        Training = training;
        foreach (var child in children)
        {
            child.Value.Train(training);
        }

        return this;
    }

    /// <summary>
    /// Freezes (false) or unfreezes every parameter of this module and its children, as nn.Module.requires_grad_(): sets
    /// <see cref="Parameter.RequiresGradient"/>, which optimizers and gradient clipping follow. Build the root first.
    /// </summary>
    /// <returns>This module.</returns>
    /// <exception cref="InvalidOperationException">The tree has not been built.</exception>
    public Module SetRequiresGradient(bool requiresGradient)
    {
        var collection = rootParameters ?? throw NotBuiltError();
        foreach (var p in collection.Parameters.Where(p => statePrefix.Length == 0 || p.Name.StartsWith(statePrefix + ".", StringComparison.Ordinal)))
        {
            p.RequiresGradient = requiresGradient;
        }

        return this;
    }

    /// <summary>Sets evaluation mode (dropout off), as nn.Module.eval().</summary>
    /// <returns>This module.</returns>
    public Module Eval() => Train(false);

    /// <summary>
    /// Keys the dropout masks of the next forward passes: every dropout in the tree draws its mask from a
    /// counter-based generator keyed by (<paramref name="seed"/>, <paramref name="stream"/>) and its place in the tree,
    /// so a run that sets the same values (the trainer passes the optimizer step) draws the same masks on every device.
    /// </summary>
    public void SetRandomState(ulong seed, ulong stream)
    {
        OnRandomState(seed, stream);
        foreach (var child in children)
        {
            child.Value.SetRandomState(seed, stream);
        }
    }

    /// <summary>Runs the module on a float tensor. The result is owned by the module until its next Forward.</summary>
    /// <exception cref="NotSupportedException">The module takes token indices.</exception>
    public virtual Tensor Forward(Tensor input)
        => throw new NotSupportedException($"{GetType().Name} takes token indices (an IndexTensor), not a float tensor.");

    /// <summary>Runs the module on token indices. The result is owned by the module until its next Forward.</summary>
    /// <exception cref="NotSupportedException">The module takes a float tensor.</exception>
    public virtual Tensor Forward(IndexTensor input)
        => throw new NotSupportedException($"{GetType().Name} takes a float tensor, not token indices.");

    /// <summary>
    /// Backpropagates dL/d(output) of the last Forward (it may be used as scratch): accumulates the parameter gradients
    /// and returns dL/d(input), owned by the module, or null when the input was token indices. The gradient has the
    /// output's shape, or its elements as a matrix by the last dimension; the library's modules refuse any other.
    /// </summary>
    public abstract Tensor? Backward(Tensor outputGradient);

    /// <summary>
    /// As <see cref="Backward(Tensor)"/>, but with <paramref name="computeInputGradient"/> false the module may skip
    /// dL/d(input), as PyTorch does for an input that does not require grad, and then returns null: for the first module
    /// of a model on data (images, features), whose input gradient nobody reads. The parameter gradients it accumulates
    /// are the same either way. With true it is <see cref="Backward(Tensor)"/>. A module that does not override it (one
    /// of your own, say) computes dL/d(input) anyway and returns it; <see cref="Linear"/>, <see cref="Conv1d"/>,
    /// <see cref="Conv2d"/>, <see cref="Lstm"/>, <see cref="Gru"/> and <see cref="Rnn"/> skip its kernels, and
    /// <see cref="Sequential"/> passes the flag to its first child.
    /// </summary>
    /// <param name="outputGradient">dL/d(output) of the last Forward, as <see cref="Backward(Tensor)"/> takes it.</param>
    /// <param name="computeInputGradient">Whether dL/d(input) is wanted; false lets the module skip it.</param>
    /// <returns>dL/d(input), owned by the module, or null when it was skipped or the input was token indices.</returns>
    public virtual Tensor? Backward(Tensor outputGradient, bool computeInputGradient) => Backward(outputGradient);

    /// <summary>The last Forward's result, which <see cref="CheckOutputGradient"/> holds a gradient against; null before the first Forward.</summary>
    private protected Tensor? LastOutput { get; set; }

    /// <summary>
    /// Throws unless <paramref name="outputGradient"/> can be dL/d(output) of the last Forward: the output's shape, or its
    /// elements as a matrix by the last dimension ([T·B, V] for [T, B, V]), the form the losses give.
    /// </summary>
    /// <exception cref="InvalidOperationException">No Forward ran.</exception>
    /// <exception cref="ArgumentException">The gradient has another shape (the same elements in another shape, such as
    /// [T, B, H] for a batch-first [B, T, H], included), or is on another device than the module.</exception>
    private protected void CheckOutputGradient(Tensor outputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        var output = LastOutput ?? throw new InvalidOperationException($"{GetType().Name}.Backward was called before Forward.");
        CheckGradientDevice(outputGradient);
        int last = output.Shape[^1];
        bool asOutput = SameShape(outputGradient.Shape, output.Shape);
        bool asMatrix = outputGradient.Rank == 2 && outputGradient.Length == output.Length && outputGradient.Shape[^1] == last;
        if (!asOutput && !asMatrix)
        {
            string matrix = output.Rank > 2 ? $" (or [{ShapeView.RowsByLast(output)}, {last}])" : string.Empty;
            throw new ArgumentException(
                $"{GetType().Name}.Backward takes dL/d(output) shaped as the last Forward's output, {output.ShapeText}{matrix}; got {outputGradient.ShapeText}.",
                nameof(outputGradient));
        }
    }

    // An index loop, not LINQ: Backward runs every batch, and training allocates nothing per batch.
    private static bool SameShape(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (int d = 0; d < a.Count; d++)
        {
            if (a[d] != b[d])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Throws when the module has been disposed (itself, or with the module it belongs to), naming the module: its type
    /// and, once its tree is built, its state_dict path. The library's modules call it first in <see cref="Forward(Tensor)"/>;
    /// a module of your own calls it there too, or a call after <see cref="Dispose"/> fails on whichever of its freed
    /// tensors it touches first, which names the tensor instead of the module.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The module has been disposed.</exception>
    protected void ThrowIfModuleDisposed()
    {
        if (disposed)
        {
            // No objectName: with one, the message gains a second line ("Object name: ...") that repeats this one.
            throw new ObjectDisposedException(objectName: null, $"{ModuleName} has been disposed; a module cannot run after Dispose.");
        }
    }

    /// <summary>
    /// The device the module works on, which its Forward's input and its Backward's dL/d(output) must be on: its tree's,
    /// once built; null before, when a module without parameters takes its input's device. A module whose parameters are
    /// in a collection of the caller's (a layer form, outside any tree) gives its parameters' device.
    /// </summary>
    private protected virtual Device? ModuleDevice => device;

    /// <summary>
    /// Throws, naming the module and both devices, unless <paramref name="input"/> is live and on <see cref="ModuleDevice"/>.
    /// The library's modules call it at the start of Forward, before anything of theirs changes, so a refused input leaves
    /// the last Forward ready for Backward.
    /// </summary>
    /// <exception cref="ArgumentException">The input is on another device than the module.</exception>
    /// <exception cref="ObjectDisposedException">The input is disposed.</exception>
    private protected void CheckInputDevice<T>(DeviceTensor<T> input)
        where T : unmanaged
        => CheckDevice(input, "its input", "copy the input to the module's device", nameof(input));

    /// <summary>As <see cref="CheckInputDevice"/> for the dL/d(output) given to Backward (<see cref="CheckOutputGradient"/> calls it).</summary>
    /// <exception cref="ArgumentException">The gradient is on another device than the module.</exception>
    /// <exception cref="ObjectDisposedException">The gradient is disposed.</exception>
    private protected void CheckGradientDevice(Tensor outputGradient)
        => CheckDevice(outputGradient, "the dL/d(output) given to its Backward", "copy the gradient to the module's device", nameof(outputGradient));

    // No allocation unless it throws: Forward and Backward run every batch.
    private void CheckDevice<T>(DeviceTensor<T> tensor, string what, string remedy, string paramName)
        where T : unmanaged
    {
        tensor.ThrowIfDisposed();
        if (ModuleDevice is { } own && !ReferenceEquals(tensor.Device, own))
        {
            throw DeviceMismatch.Error(ModuleName, own, $"{what} {tensor.ShapeText}", tensor.Device, remedy, paramName);
        }
    }

    // The module as errors name it: its type and, once its tree is built, its state_dict path.
    private string ModuleName => statePrefix.Length == 0 ? GetType().Name : $"{GetType().Name} '{statePrefix}'";

    /// <summary>
    /// The error for a module used before its tree was built: either the root was not built, or this module was kept
    /// in a field of a custom module without <see cref="AddModule"/>, so <see cref="Build"/> never reached it.
    /// </summary>
    private protected InvalidOperationException NotBuiltError() => new(
        $"The {GetType().Name} has not been built: build the root module (model.Build(device, seed)) before using it. A module kept in a field of a custom module must be registered with AddModule, or Build does not reach it.");

    /// <summary>
    /// Every parameter's and buffer's values on the host under its state_dict name, in PyTorch's order (each module's
    /// parameters, then its buffers, then its children's), as nn.Module.state_dict(). An int64 buffer's values are given
    /// as floats, exact up to 2²⁴ (<see cref="ModuleBuffer"/>; a checkpoint keeps them as int64).
    /// </summary>
    public Dictionary<string, (int[] Shape, float[] Data)> StateDict()
    {
        var collection = Parameters;
        var state = new Dictionary<string, (int[] Shape, float[] Data)>();
        Add(this, collection, state);
        return state;

        static void Add(Module module, ParameterCollection collection, Dictionary<string, (int[] Shape, float[] Data)> state)
        {
            for (int i = module.firstParameter; i < module.firstParameter + module.parameterCount; i++)
            {
                var p = collection.Parameters[i];
                state[p.Name] = (p.Shape.ToArray(), p.Value.ToArray());
            }

            foreach (var buffer in module.ownBuffers)
            {
                state[buffer.Name] = (buffer.Shape.ToArray(), buffer.ToHost());
            }

            foreach (var child in module.children)
            {
                Add(child.Value, collection, state);
            }
        }
    }

    /// <summary>Loads values by state_dict name, checking every name and shape before anything is written.</summary>
    /// <exception cref="ArgumentException">A name is missing or unexpected, or a shape differs; nothing was written.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, (int[] Shape, float[] Data)> stateDict) => LoadStateDict(stateDict, strict: true);

    /// <summary>
    /// Loads values by state_dict name, parameters and buffers, as load_state_dict(strict): with <paramref name="strict"/>
    /// false, the names the module lacks are skipped and its parameters and buffers the dictionary lacks keep their values
    /// (to start part of a model from another's). Every shape is checked before anything is written, strict or not; an
    /// int64 buffer (a count) takes only whole numbers ≥ 0. A dictionary without BatchNorm1d's <c>num_batches_tracked</c>
    /// loads, strict or not, and sets it to 0, as PyTorch loads a state_dict saved without it.
    /// </summary>
    /// <returns>The module's parameters and buffers that were not loaded, and the names that were skipped (both empty when strict).</returns>
    /// <exception cref="ArgumentException">A shape differs, an int64 buffer is given a fraction or a negative number, or (strict) a name is missing or unexpected; nothing was written.</exception>
    public (IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys) LoadStateDict(IReadOnlyDictionary<string, (int[] Shape, float[] Data)> stateDict, bool strict)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var collection = Parameters;
        var buffers = NamedBuffers;
        var extra = stateDict.Keys.Where(k => !collection.Parameters.Any(p => p.Name == k) && !buffers.Any(b => b.Name == k)).ToList();
        if (strict && extra.Count > 0)
        {
            throw new ArgumentException(
                $"Unexpected parameter(s) {string.Join(", ", extra)}; the module has {string.Join(", ", collection.Parameters.Select(p => p.Name).Concat(buffers.Select(b => b.Name)))}.");
        }

        var missingBuffers = new List<string>();
        foreach (var buffer in buffers)
        {
            if (!stateDict.TryGetValue(buffer.Name, out var t))
            {
                if (!buffer.OptionalInStateDict)
                {
                    missingBuffers.Add(strict ? throw new ArgumentException($"Missing buffer '{buffer.Name}' {Tensor.FormatShape(buffer.Shape)}.") : buffer.Name);
                }

                continue;
            }

            CheckBuffer(buffer, t);
        }

        var missing = collection.Load(stateDict, allowMissing: !strict);
        foreach (var buffer in buffers)
        {
            if (stateDict.TryGetValue(buffer.Name, out var t))
            {
                buffer.CopyFrom(t.Data);
            }
            else if (buffer.OptionalInStateDict)
            {
                buffer.Reset();
            }
        }

        return ([.. missing, .. missingBuffers], extra);
    }

    // Throws unless t can be loaded into buffer: its shape, its length, and for an int64 buffer whole numbers.
    private static void CheckBuffer(ModuleBuffer buffer, (int[] Shape, float[] Data) t)
    {
        if (t.Shape is null || t.Data is null)
        {
            throw new ArgumentException($"Buffer '{buffer.Name}' has no {(t.Shape is null ? "shape" : "values")} (null).");
        }

        if (!t.Shape.SequenceEqual(buffer.Shape) || t.Data.Length != buffer.Length)
        {
            throw new ArgumentException($"Buffer '{buffer.Name}' has shape {Tensor.FormatShape(t.Shape)} and {t.Data.Length} values but the model needs {Tensor.FormatShape(buffer.Shape)}.");
        }

        if (buffer.IndexOfInvalid(t.Data) is var bad and >= 0)
        {
            throw new ArgumentException($"Buffer '{buffer.Name}' holds a count (a whole number ≥ 0), but element {bad} is {t.Data[bad]}.");
        }
    }

    /// <summary>Frees the module's buffers, its children's, and (on the root) the parameters.</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var child in children)
        {
            child.Value.Dispose();
        }

        DisposeBuffers();
        foreach (var buffer in ownBuffers)
        {
            buffer.Dispose();
        }

        parameters?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Joins a prefix and a local name as state_dict does: <c>lstm</c> and <c>weight_ih_l0</c> give <c>lstm.weight_ih_l0</c>,
    /// and an empty prefix (the root) gives the local name. A module's <see cref="CreateParameters"/> names its parameters with it.
    /// </summary>
    protected internal static string JoinName(string prefix, string name)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentException.ThrowIfNullOrEmpty(name);
        return prefix.Length == 0 ? name : $"{prefix}.{name}";
    }

    /// <summary>Registers a child under <paramref name="name"/> (no dots), before the module is built.</summary>
    /// <returns>The child.</returns>
    protected T AddModule<T>(string name, T module)
        where T : Module
    {
        CheckNewChild(name, module, children);
        module.hasParent = true;
        children.Add(new(name, module));
        return module;
    }

    /// <summary>
    /// Registers a float buffer of this module under <paramref name="name"/> (no dots), before the module is built, as
    /// PyTorch's <c>register_buffer</c>: state that is in the state_dict (named with the module's prefix, after its
    /// parameters) and saved with it, but is no parameter (<see cref="ModuleBuffer"/>). Build allocates it on the
    /// module's device, every value <paramref name="initialValue"/>.
    /// </summary>
    /// <returns>The buffer; its <see cref="ModuleBuffer.Value"/> exists once the tree is built.</returns>
    /// <exception cref="ArgumentException">The name is empty, holds a dot or is taken, or the shape is empty or has a negative dimension.</exception>
    /// <exception cref="InvalidOperationException">The module has been built.</exception>
    protected ModuleBuffer RegisterBuffer(string name, int[] shape, float initialValue = 0f) => AddBuffer(new ModuleBuffer(CheckBufferName(name), shape, initialValue, isInt64: false));

    /// <summary>
    /// Registers an int64 buffer (a count, kept on the host; <paramref name="shape"/> may be empty for a scalar) starting
    /// at 0; an <paramref name="optionalInStateDict"/> one may be absent from a state_dict, which then sets it to 0.
    /// </summary>
    private protected ModuleBuffer RegisterInt64Buffer(string name, int[] shape, bool optionalInStateDict = false)
        => AddBuffer(new ModuleBuffer(CheckBufferName(name), shape, 0f, isInt64: true, optionalInStateDict));

    private string CheckBufferName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A buffer name cannot contain '.'; got '{name}'.", nameof(name));
        }

        if (IsBuilt)
        {
            throw new InvalidOperationException("Buffers cannot be registered after the model has been built.");
        }

        if (ownBuffers.Exists(b => b.LocalName == name))
        {
            throw new ArgumentException($"A buffer named '{name}' is already registered.", nameof(name));
        }

        return name;
    }

    private ModuleBuffer AddBuffer(ModuleBuffer buffer)
    {
        ownBuffers.Add(buffer);
        return buffer;
    }

    /// <summary>
    /// Throws unless <paramref name="module"/> can join as a child named <paramref name="name"/> beside
    /// <paramref name="siblings"/>; changes nothing, so a container can check all its children before adding any.
    /// </summary>
    private protected void CheckNewChild(string name, Module module, IEnumerable<KeyValuePair<string, Module>> siblings)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(siblings);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"A module name cannot contain '.'; got '{name}'.", nameof(name));
        }

        if (IsBuilt || module.IsBuilt)
        {
            throw new InvalidOperationException("Modules cannot be added after the model has been built.");
        }

        // Forward keeps one input and one output for Backward, so a module called in two places of one model would
        // overwrite the first call's; weight sharing needs two modules whose parameters are copied, not one module twice.
        var same = siblings.FirstOrDefault(c => ReferenceEquals(c.Value, module));
        if (ReferenceEquals(module, this) || same.Value is not null)
        {
            string where = ReferenceEquals(module, this) ? "the module itself" : $"the child '{same.Key}'";
            throw new ArgumentException(
                $"The module given as '{name}' is {where}: a module can appear only once in a model, because its Forward keeps one input and output for Backward (calling one module in two places is not supported).",
                nameof(module));
        }

        if (module.hasParent)
        {
            throw new ArgumentException($"The module given as '{name}' already belongs to another module.", nameof(module));
        }

        if (siblings.Any(c => c.Key == name))
        {
            throw new ArgumentException($"A child module named '{name}' is already registered.", nameof(name));
        }
    }

    /// <summary>
    /// Registers this module's own parameters (not its children's) into <paramref name="parameters"/>, named
    /// <c>JoinName(prefix, local name)</c>; called once, by <see cref="Build"/>, in state_dict order.
    /// </summary>
    protected virtual void CreateParameters(ParameterCollection parameters, string prefix, int ordinal)
    {
    }

    /// <summary>Receives the dropout key; see <see cref="SetRandomState"/>.</summary>
    protected virtual void OnRandomState(ulong seed, ulong stream)
    {
    }

    /// <summary>Frees the module's own buffers.</summary>
    protected virtual void DisposeBuffers()
    {
    }

    private void CreateParametersRecursive(ParameterCollection collection, string prefix, ref int ordinal)
    {
        statePrefix = prefix;
        firstParameter = collection.Parameters.Count;
        CreateParameters(collection, prefix, ordinal++);
        parameterCount = collection.Parameters.Count - firstParameter;
        foreach (var child in children)
        {
            child.Value.CreateParametersRecursive(collection, JoinName(prefix, child.Key), ref ordinal);
        }
    }
}
