namespace Tensorlet.Nn;

/// <summary>
/// A batch-first recurrent module's reordering: row b·T + t of its input and output ([B, T, X]) is row t·B + b of the
/// time-major rows ([T·B, X]) its recurrence runs on. Each direction is one gather of whole rows
/// (<see cref="Ops.GatherRows"/>; <see cref="Ops.GatherIndices"/> for token ids) by a permutation held on the device,
/// remade only when (B, T) changes, into a buffer of its own that the module owns and reuses; the permutations and the
/// reordered ids live in grow-only buffers (<see cref="IndexWorkspace"/>), so once the largest (B, T) has been seen no
/// batch allocates device memory, whatever its shape. A gather copies, so every float is the one the time-major module
/// computes on the transposed data. A grouped <see cref="Conv1d"/> reorders its rows the same way, between batch-major
/// [N, G, ...] and group-major [G, N, ...], with its G groups as T and its batch N as B.
/// </summary>
internal sealed class BatchFirstRows : IDisposable
{
    private readonly Workspace timeMajorInput = new();
    private readonly Workspace batchFirstOutput = new();
    private readonly Workspace timeMajorOutputGradient = new();
    private readonly Workspace batchFirstInputGradient = new();
    private readonly IndexWorkspace toTimeMajorBuffer = new();
    private readonly IndexWorkspace toBatchFirstBuffer = new();
    private readonly IndexWorkspace timeMajorIdsBuffer = new();

    // [T·B]: time-major row t·B + b comes from batch-first row b·T + t.
    private IndexTensor? toTimeMajor;

    // [B·T]: batch-first row b·T + t comes from time-major row t·B + b.
    private IndexTensor? toBatchFirst;
    private int steps;
    private int batch;

    /// <summary>The input rows [B·T, In] in time-major order [T·B, In], in a buffer kept until the next call (Backward reads it).</summary>
    public Tensor InputToTimeMajor(Tensor input, int steps, int batch)
    {
        Prepare(input.Device, steps, batch);
        return timeMajorInput.GatherRows(input, toTimeMajor!);
    }

    /// <summary>The token ids [B·T] in time-major order [T·B], in a buffer kept until the next call (Backward reads it).</summary>
    public IndexTensor IdsToTimeMajor(IndexTensor ids, int steps, int batch)
    {
        Prepare(ids.Device, steps, batch);
        var timeMajorIds = timeMajorIdsBuffer.Get(ids.Device, (int)ids.Length);
        Ops.GatherIndices(ids, toTimeMajor!, timeMajorIds);
        return timeMajorIds;
    }

    /// <summary>The last call's time-major output rows [T·B, H] in batch-first order [B·T, H].</summary>
    public Tensor OutputToBatchFirst(Tensor output) => batchFirstOutput.GatherRows(output, toBatchFirst!);

    /// <summary>dL/d(output) in batch-first rows [B·T, H] as the time-major rows [T·B, H] the recurrence's backward takes.</summary>
    public Tensor OutputGradientToTimeMajor(Tensor outputGradient) => timeMajorOutputGradient.GatherRows(outputGradient, toTimeMajor!);

    /// <summary>dL/d(input) in time-major rows [T·B, In] as the batch-first rows [B·T, In] of the module's input.</summary>
    public Tensor InputGradientToBatchFirst(Tensor inputGradient) => batchFirstInputGradient.GatherRows(inputGradient, toBatchFirst!);

    public void Dispose()
    {
        timeMajorInput.Dispose();
        batchFirstOutput.Dispose();
        timeMajorOutputGradient.Dispose();
        batchFirstInputGradient.Dispose();
        toTimeMajorBuffer.Dispose();
        toBatchFirstBuffer.Dispose();
        timeMajorIdsBuffer.Dispose();
    }

    // Writes the two permutations for (steps, batch) into the module's index buffers, only when one of them changes.
    private void Prepare(Device device, int steps, int batch)
    {
        if (toTimeMajor is not null && !toTimeMajor.IsDisposed && ReferenceEquals(toTimeMajor.Device, device) && this.steps == steps && this.batch == batch)
        {
            return;
        }

        int rows = steps * batch;
        var timeMajor = toTimeMajorBuffer.Stage(rows);
        var batchFirst = toBatchFirstBuffer.Stage(rows);
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                timeMajor[(t * batch) + b] = (b * steps) + t;
                batchFirst[(b * steps) + t] = (t * batch) + b;
            }
        }

        toTimeMajor = toTimeMajorBuffer.Upload(device, rows);
        toBatchFirst = toBatchFirstBuffer.Upload(device, rows);
        (this.steps, this.batch) = (steps, batch);
    }
}
