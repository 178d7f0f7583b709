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

    public BatchBuffers(Device device, IBatchSource source, int batchSize)
    {
        this.source = source;
        BatchSize = batchSize;
        hostInputs = new int[batchSize * source.InputsPerExample];
        hostTargets = new int[batchSize * source.RowsPerExample];
        Positions = new int[batchSize * source.RowsPerExample];
        inputs = device.IndexZeros(hostInputs.Length);
        targets = device.IndexZeros(hostTargets.Length);
    }

    public int BatchSize { get; }

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

    public void Dispose()
    {
        inputs.Dispose();
        targets.Dispose();
    }
}
