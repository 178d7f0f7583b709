using Tensorlet.Kernels;
using Tensorlet.Nn;

namespace Tensorlet.Models.Training;

/// <summary>
/// Host and device buffers for one batch, sized for the largest batch and reused, so that a training
/// step copies values into existing memory and allocates nothing.
/// </summary>
internal sealed class BatchBuffers<TInput, TTarget> : IDisposable
    where TInput : unmanaged
    where TTarget : unmanaged
{
    private readonly IBatchSource<TInput, TTarget> source;
    private readonly TInput[] hostInputs;
    private readonly TTarget[] hostTargets;
    private readonly DeviceTensor<TInput> inputs;
    private readonly DeviceTensor<TTarget> targets;
    private (int Examples, DeviceTensor<TInput> Inputs, DeviceTensor<TTarget> Targets)? partial;
    private int loadedTargets;
    private readonly ShapeView targetView = new();
    private readonly RecentViews<DeviceTensor<TInput>> shaped = new();

    public BatchBuffers(Device device, IBatchSource<TInput, TTarget> source, int batchSize)
    {
        this.source = source;
        BatchSize = batchSize;
        int inputCount = BatchBuffers.Capacity(batchSize, source.InputsPerExample, "inputs");
        int targetCount = BatchBuffers.Capacity(batchSize, source.TargetsPerExample, "targets");
        RowCapacity = BatchBuffers.Capacity(batchSize, source.RowsPerExample, "loss rows");
        hostInputs = new TInput[inputCount];
        hostTargets = new TTarget[targetCount];
        Positions = new int[RowCapacity];
        inputs = BatchTensors.Zeros<TInput>(device, inputCount);
        targets = BatchTensors.Zeros<TTarget>(device, targetCount);
    }

    public int BatchSize { get; }

    /// <summary>Loss rows of a full batch: <see cref="BatchSize"/> × <see cref="IBatchSource{TInput, TTarget}.RowsPerExample"/>.</summary>
    public int RowCapacity { get; }

    /// <summary>The target positions of the last loaded batch, one per loss row.</summary>
    public int[] Positions { get; }

    /// <summary>The targets of the last loaded batch, on the host.</summary>
    public ReadOnlySpan<TTarget> LoadedTargets => hostTargets.AsSpan(0, loadedTargets);

    /// <summary>Loads <paramref name="examples"/>: flat inputs and targets, in the buffers (or cached views of them).</summary>
    public (DeviceTensor<TInput> Inputs, DeviceTensor<TTarget> Targets) Load(ReadOnlySpan<int> examples)
    {
        int n = examples.Length;
        int inputCount = n * source.InputsPerExample;
        int targetCount = n * source.TargetsPerExample;
        source.Fill(examples, hostInputs.AsSpan(0, inputCount), hostTargets.AsSpan(0, targetCount), Positions.AsSpan(0, n * source.RowsPerExample));
        loadedTargets = targetCount;
        if (n == BatchSize)
        {
            inputs.CopyFrom(hostInputs);
            targets.CopyFrom(hostTargets);
            return (inputs, targets);
        }

        if (partial is not { } p || p.Examples != n)
        {
            p = (n, BatchTensors.Slice(inputs, 0, inputCount), BatchTensors.Slice(targets, 0, targetCount));
            partial = p;
        }

        p.Inputs.CopyFrom(hostInputs.AsSpan(0, inputCount));
        p.Targets.CopyFrom(hostTargets.AsSpan(0, targetCount));
        return (p.Inputs, p.Targets);
    }

    /// <summary>Loaded inputs of <paramref name="examples"/> examples in the source's <see cref="IBatchSource{TInput, TTarget}.InputShape"/>, the view cached (a full batch's and a short last batch's both).</summary>
    public DeviceTensor<TInput> Shaped(DeviceTensor<TInput> loaded, int examples)
    {
        ReadOnlySpan<int> key = [examples, (int)loaded.Length];
        var view = shaped.Find(loaded.Storage, loaded.Offset, key);
        return view is not null && !view.IsDisposed ? view : shaped.Add(loaded.Storage, loaded.Offset, key, BatchTensors.Reshape(loaded, source.InputShape(examples)));
    }

    /// <summary>
    /// Loaded targets as the loss takes them: float targets, which sources give flat (B·targetShape values), in the
    /// shape of <paramref name="prediction"/> when they hold as many values (a cached view), so <c>MseLoss</c> pairs
    /// them element by element; class ids as loaded.
    /// </summary>
    public DeviceTensor<TTarget> TargetsFor(DeviceTensor<TTarget> loaded, Tensor prediction)
        => loaded is Tensor values && values.Rank == 1 && prediction.Rank > 1 && values.Length == prediction.Length
            ? (DeviceTensor<TTarget>)(object)targetView.Like(values, prediction, prediction.Shape[^1])
            : loaded;

    public void Dispose()
    {
        inputs.Dispose();
        targets.Dispose();
    }
}

/// <summary>The batch buffers' sizing rule.</summary>
internal static class BatchBuffers
{
    /// <summary>
    /// <paramref name="batchSize"/> × <paramref name="perExample"/>, computed in 64 bits and checked against the largest
    /// array before anything is allocated (a product that wrapped around would allocate the wrong size).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The batch is not positive, or its buffer would not fit one array.</exception>
    public static int Capacity(int batchSize, int perExample, string what)
    {
        ArgumentChecks.ThrowIfNegativeOrZero(batchSize);
        long count = (long)batchSize * perExample;
        return count <= Array.MaxLength
            ? (int)count
            : throw new ArgumentOutOfRangeException(nameof(batchSize), $"A batch of {batchSize} examples needs {count} {what}; at most {Array.MaxLength} fit one buffer.");
    }
}
