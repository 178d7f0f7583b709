namespace Tensorlet.Models.Training;

/// <summary>
/// Host and device buffers for one batch, sized for the largest batch and reused, so that a training
/// step copies indices into existing memory and allocates nothing.
/// </summary>
internal sealed class BatchBuffers : IDisposable
{
    private readonly IBatchSource source;
    private readonly int[] hostInputs;
    private readonly int[] hostTargets;
    private readonly IndexTensor inputs;
    private readonly IndexTensor targets;
    private (int Examples, IndexTensor Inputs, IndexTensor Targets)? partial;
    private IndexTensor? shapedSource;
    private IndexTensor? shaped;

    public BatchBuffers(Device device, IBatchSource source, int batchSize)
    {
        this.source = source;
        BatchSize = batchSize;
        int inputCount = Capacity(batchSize, source.InputsPerExample, "input ids");
        RowCapacity = Capacity(batchSize, source.RowsPerExample, "target rows");
        hostInputs = new int[inputCount];
        hostTargets = new int[RowCapacity];
        Positions = new int[RowCapacity];
        inputs = device.IndexZeros(hostInputs.Length);
        targets = device.IndexZeros(hostTargets.Length);
    }

    public int BatchSize { get; }

    /// <summary>Target rows of a full batch: <see cref="BatchSize"/> × <see cref="IBatchSource.RowsPerExample"/>.</summary>
    public int RowCapacity { get; }

    /// <summary>
    /// <paramref name="batchSize"/> × <paramref name="perExample"/>, computed in 64 bits and checked against the largest
    /// array before anything is allocated (a product that wrapped around would allocate the wrong size).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The batch is not positive, or its buffer would not fit one array.</exception>
    public static int Capacity(int batchSize, int perExample, string what)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        long count = (long)batchSize * perExample;
        return count <= Array.MaxLength
            ? (int)count
            : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"A batch of {batchSize} examples needs {count} {what}; at most {Array.MaxLength} fit one buffer.");
    }

    /// <summary>The target positions of the last loaded batch, one per row.</summary>
    public int[] Positions { get; }

    public (IndexTensor Inputs, IndexTensor Targets) Load(ReadOnlySpan<int> examples)
    {
        int n = examples.Length;
        int inputCount = n * source.InputsPerExample;
        int rowCount = n * source.RowsPerExample;
        source.Fill(examples, hostInputs.AsSpan(0, inputCount), hostTargets.AsSpan(0, rowCount), Positions.AsSpan(0, rowCount));
        if (n == BatchSize)
        {
            inputs.CopyFrom(hostInputs);
            targets.CopyFrom(hostTargets);
            return (inputs, targets);
        }

        if (partial is not { } p || p.Examples != n)
        {
            p = (n, inputs.Slice(0, inputCount), targets.Slice(0, rowCount));
            partial = p;
        }

        p.Inputs.CopyFrom(hostInputs.AsSpan(0, inputCount));
        p.Targets.CopyFrom(hostTargets.AsSpan(0, rowCount));
        return (p.Inputs, p.Targets);
    }

    /// <summary>Loaded inputs of <paramref name="examples"/> examples as [InputsPerExample, examples] (time-major for sequences), the view cached.</summary>
    public IndexTensor Shaped(IndexTensor loaded, int examples)
    {
        if (!ReferenceEquals(loaded, shapedSource) || shaped is null || shaped.IsDisposed || shaped.Shape[1] != examples)
        {
            shapedSource = loaded;
            shaped = loaded.Reshape(source.InputsPerExample, examples);
        }

        return shaped;
    }

    public void Dispose()
    {
        inputs.Dispose();
        targets.Dispose();
    }
}
