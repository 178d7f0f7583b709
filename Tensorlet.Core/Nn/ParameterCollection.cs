using System.Globalization;
namespace Tensorlet.Nn;

/// <summary>
/// Every parameter of a model in two flat device buffers, values and gradients, in registration
/// order. Layers register their parameters on construction; <see cref="Build"/> allocates and
/// initialises them. One flat buffer lets Adam, gradient zeroing and clipping each be one kernel.
/// </summary>
public sealed class ParameterCollection : IDisposable
{
    private readonly List<Parameter> parameters = [];
    private Tensor? values;
    private Tensor? gradients;
    private TrainableRuns? trainable;

    /// <summary>An empty collection; <see cref="Module.Build"/> makes the one of a module tree.</summary>
    internal ParameterCollection()
    {
    }

    /// <summary>The parameters in registration order.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The device the parameters live on, once built.</summary>
    public Device? Device => values?.Device;

    /// <summary>
    /// The total number of scalars: the sum of the parameters' <see cref="Parameter.Length"/>, and the length of
    /// <see cref="Values"/> and <see cref="Gradients"/>. (The number of parameters is <c>Parameters.Count</c>.)
    /// </summary>
    public long Length => parameters.Sum(p => p.Length);

    /// <summary>All values, one flat tensor.</summary>
    public Tensor Values => values ?? throw new InvalidOperationException("The parameter collection has not been built.");

    /// <summary>All gradients, one flat tensor in the same order as <see cref="Values"/>.</summary>
    public Tensor Gradients => gradients ?? throw new InvalidOperationException("The parameter collection has not been built.");

    /// <summary>Looks a parameter up by its state_dict name.</summary>
    public Parameter this[string name] => parameters.Find(p => p.Name == name)
        ?? throw new KeyNotFoundException($"No parameter named '{name}'. Parameters: {string.Join(", ", parameters.Select(p => p.Name))}.");

    /// <summary>
    /// Registers a parameter; when the collection is built, its initializer draws each element from a seeded generator,
    /// once per element, in row-major order.
    /// </summary>
    public Parameter Add(string name, int[] shape, Func<Random, float> initializer)
    {
        if (values is not null)
        {
            throw new InvalidOperationException("Cannot add parameters after the collection has been built.");
        }

        if (parameters.Exists(p => p.Name == name))
        {
            throw new ArgumentException($"A parameter named '{name}' is already registered.", nameof(name));
        }

        var parameter = new Parameter(this, name, Tensor.CheckShape(shape), initializer);
        parameters.Add(parameter);
        return parameter;
    }

    /// <summary>Allocates the flat buffers on <paramref name="device"/> and initialises every parameter from <paramref name="seed"/>.</summary>
    internal void Build(Device device, int seed)
    {
        if (values is not null)
        {
            throw new InvalidOperationException("The parameter collection has already been built.");
        }

        long total = Length;
        if (total > Array.MaxLength)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"The module's parameters are {total:N0} values in all; they share one buffer, which holds at most {Array.MaxLength:N0}."));
        }

        var host = new float[total];
        var random = new Random(seed);
        long offset = 0;
        foreach (var p in parameters)
        {
            for (long i = 0; i < p.Length; i++)
            {
                host[offset + i] = p.Initializer(random);
            }

            offset += p.Length;
        }

        values = device.FromArray(host, checked((int)total));
        gradients = device.Zeros(checked((int)total));
        offset = 0;
        foreach (var p in parameters)
        {
            var length = checked((int)p.Length);
            p.Bind(values.Slice((int)offset, length).Reshape([.. p.Shape]), gradients.Slice((int)offset, length).Reshape([.. p.Shape]), offset);
            offset += length;
        }
    }

    /// <summary>Bumped whenever a parameter's <see cref="Parameter.RequiresGradient"/> changes.</summary>
    internal int TrainableVersion { get; private set; }

    /// <summary>The values and gradients of the parameters that require a gradient, one pair of views per run of consecutive ones.</summary>
    internal TrainableRuns Trainable => trainable ??= new TrainableRuns(this, Values, Gradients);

    internal void OnRequiresGradientChanged() => TrainableVersion++;

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Ops.Fill(Gradients, 0f);

    /// <summary>
    /// Copies host values into the named parameters, checking every shape first; a parameter <paramref name="tensors"/>
    /// lacks is an error, or with <paramref name="allowMissing"/> is left as it is.
    /// </summary>
    /// <returns>The names of the parameters left as they were.</returns>
    internal List<string> Load(IReadOnlyDictionary<string, (int[] Shape, float[] Data)> tensors, bool allowMissing = false)
    {
        var missing = new List<string>();
        foreach (var p in parameters)
        {
            if (!tensors.TryGetValue(p.Name, out var t))
            {
                missing.Add(allowMissing ? p.Name : throw new ArgumentException($"Missing parameter '{p.Name}' {Tensor.FormatShape(p.Shape)}."));
                continue;
            }

            if (t.Shape is null || t.Data is null)
            {
                throw new ArgumentException($"Parameter '{p.Name}' has no {(t.Shape is null ? "shape" : "values")} (null).");
            }

            if (!t.Shape.SequenceEqual(p.Shape))
            {
                throw new ArgumentException($"Parameter '{p.Name}' has shape {Tensor.FormatShape(t.Shape ?? [])} but the model needs {Tensor.FormatShape(p.Shape)}.");
            }

            if (t.Data.Length != p.Length)
            {
                throw new ArgumentException($"Parameter '{p.Name}' {Tensor.FormatShape(p.Shape)} needs {p.Length} values; got {t.Data.Length}.");
            }
        }

        foreach (var p in parameters.Where(p => tensors.ContainsKey(p.Name)))
        {
            p.Value.CopyFrom(tensors[p.Name].Data);
        }

        return missing;
    }

    /// <summary>Copies every parameter's values to the host, by name.</summary>
    public Dictionary<string, (int[] Shape, float[] Data)> ToHost()
        => parameters.ToDictionary(p => p.Name, p => (p.Shape.ToArray(), p.Value.ToArray()));

    /// <summary>Frees the flat buffers.</summary>
    public void Dispose()
    {
        values?.Dispose();
        gradients?.Dispose();
    }
}
