namespace Tensorlet.Nn;

/// <summary>
/// A named tensor of a module's state that is not a parameter, as PyTorch's <c>register_buffer</c> makes (BatchNorm1d's
/// <c>running_mean</c>): it is in the state_dict under its dotted name, and saved and loaded with the module, but it is
/// not in the <see cref="ParameterCollection"/>, so optimizers, weight decay and gradient clipping never see it, and
/// Backward gives it no gradient. A float buffer lives on the module's device; an int64 one (BatchNorm1d's
/// <c>num_batches_tracked</c>, a count) is kept on the host, and a checkpoint stores it as int64 as PyTorch does.
/// </summary>
public sealed class ModuleBuffer
{
    private readonly int[] shape;
    private readonly float initialValue;
    private string? name;
    private Tensor? value;
    private long[]? integers;

    internal ModuleBuffer(string localName, int[] shape, float initialValue, bool isInt64, bool optionalInStateDict = false)
    {
        LocalName = localName;
        this.shape = isInt64 ? (int[])shape.Clone() : Tensor.CheckShape((int[])shape.Clone());
        this.initialValue = initialValue;
        IsInt64 = isInt64;
        OptionalInStateDict = optionalInStateDict;
    }

    /// <summary>The PyTorch state_dict name, e.g. <c>1.running_mean</c>, once the module's tree is built.</summary>
    /// <exception cref="InvalidOperationException">The tree has not been built.</exception>
    public string Name => name ?? throw new InvalidOperationException($"Buffer '{LocalName}' is not allocated yet: build the root module first.");

    /// <summary>The shape, in PyTorch's layout; empty for a scalar.</summary>
    public IReadOnlyList<int> Shape => shape;

    /// <summary>Whether the buffer holds int64 values on the host (a count) rather than floats on the device.</summary>
    public bool IsInt64 { get; }

    /// <summary>The values of a float buffer, on the module's device.</summary>
    /// <exception cref="InvalidOperationException">The buffer is int64, or the tree has not been built.</exception>
    public Tensor Value => IsInt64
        ? throw new InvalidOperationException($"Buffer '{LocalName}' holds int64 values on the host, not a float tensor.")
        : value ?? throw new InvalidOperationException($"Buffer '{LocalName}' is not allocated yet: build the root module first.");

    /// <summary>The name given to <c>RegisterBuffer</c>, without the module's prefix.</summary>
    internal string LocalName { get; }

    internal long Length => Tensor.ElementCount(shape);

    /// <summary>
    /// Whether a state_dict without the buffer still loads, setting it to its initial value (a count to 0), as PyTorch's
    /// BatchNorm loads a state_dict that lacks <c>num_batches_tracked</c> and holds no version metadata.
    /// </summary>
    internal bool OptionalInStateDict { get; }

    /// <summary>The values of an int64 buffer, kept on the host; written in place by the module that owns it.</summary>
    internal long[] Int64Values => integers ?? throw new InvalidOperationException($"Buffer '{LocalName}' is not an allocated int64 buffer.");

    /// <summary>The values as floats on the host (an int64 buffer's rounded to float), as the state_dict gives them.</summary>
    internal float[] ToHost() => IsInt64 ? Array.ConvertAll(Int64Values, v => (float)v) : Value.ToArray();

    /// <summary>Names the buffer and allocates it, filled with its initial value; called once, by Build.</summary>
    internal void Allocate(string fullName, Device device)
    {
        name = fullName;
        if (IsInt64)
        {
            integers = new long[Length];
            Array.Fill(integers, (long)initialValue);
        }
        else
        {
            var host = new float[Length];
            Array.Fill(host, initialValue);
            value = device.FromArray(host, shape);
        }
    }

    /// <summary>
    /// The index of the first of <paramref name="data"/> this buffer cannot hold, -1 when it takes them all: an int64
    /// buffer (a count) takes whole numbers ≥ 0 only, as values of any dtype (PyTorch loads a float count too); a float
    /// buffer takes any.
    /// </summary>
    internal int IndexOfInvalid(ReadOnlySpan<float> data)
    {
        for (int i = 0; IsInt64 && i < data.Length; i++)
        {
            if (!(data[i] >= 0f) || float.IsInfinity(data[i]) || data[i] != MathF.Floor(data[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Sets every value to the initial one, as Build allocated it.</summary>
    internal void Reset()
    {
        if (IsInt64)
        {
            Array.Fill(Int64Values, (long)initialValue);
        }
        else
        {
            Ops.Fill(Value, initialValue);
        }
    }

    /// <summary>Copies state_dict values in, checked by the caller (<see cref="IndexOfInvalid"/>).</summary>
    internal void CopyFrom(float[] data)
    {
        if (IsInt64)
        {
            for (int i = 0; i < data.Length; i++)
            {
                Int64Values[i] = (long)data[i];
            }
        }
        else
        {
            Value.CopyFrom(data);
        }
    }

    internal void Dispose() => value?.Dispose();
}
